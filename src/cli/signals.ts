/** Graceful shutdown on SIGINT/SIGTERM: end watches, stop pollers, close the server. */
export function closeOnSignal(gw: { close(): Promise<void> }, extra?: () => Promise<void>): void {
  let closingSince: number | undefined;
  const stop = (sig: string) => {
    if (closingSince !== undefined) {
      // Ctrl-C reaches this process both from the terminal and through its launcher, at once: only a signal
      // sent again later means "stop now".
      if (Date.now() - closingSince > 1000) process.exit(1);
      return;
    }
    closingSince = Date.now();
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
