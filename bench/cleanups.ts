// What a benchmark opened, closed in reverse order of opening: a worker stops before the connections, simulators
// and database it uses. Each step runs once, even when the run is interrupted and cleans up twice.

interface Step {
  what: string;
  close: () => Promise<unknown>;
}

export class Cleanups {
  private readonly steps: Step[] = [];
  private ran = false;

  add(what: string, close: () => Promise<unknown>): void {
    this.steps.push({ what, close });
  }

  /** Every step, the failing ones too; each failure is passed to `failed` and the rest still run. */
  async run(failed: (what: string, err: unknown) => void): Promise<void> {
    if (this.ran) return;
    this.ran = true;
    for (const { what, close } of this.steps.reverse()) {
      await close().catch((err: unknown) => failed(what, err));
    }
  }
}
