/** Graceful shutdown on SIGINT/SIGTERM: end watches, stop pollers, close the server. */
export function closeOnSignal(gw: { close(): Promise<void> }, extra?: () => Promise<void>): void {
  let closing = false;
  const stop = (sig: string) => {
    if (closing) process.exit(1);
    closing = true;
    process.stderr.write(`kubegate: ${sig}, shutting down\n`);
    const t = setTimeout(() => process.exit(1), 10_000);
    t.unref();
    void gw
      .close()
      .then(() => extra?.())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
