/**
 * A one-line progress display on a terminal (rewritten in place with `\r`); silent when stderr is not a
 * terminal, so logs and pipes get only the final summary.
 */
export class Progress {
  private readonly started = Date.now();
  private lastDraw = 0;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number, detail = ''): void {
    if (!this.stream.isTTY) return;
    const now = Date.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    this.stream.write(
      `\r${this.label}: ${done.toLocaleString('en')} lines, ${rate.toLocaleString('en')}/s ${detail}\x1b[K`,
    );
  }

  done(): void {
    if (this.stream.isTTY) this.stream.write('\r\x1b[K');
  }

  elapsedSeconds(): number {
    return (Date.now() - this.started) / 1000;
  }
}
