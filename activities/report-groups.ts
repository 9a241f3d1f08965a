/** Sends one waiter a group of reports at once (one signal); resolves once the waiter has them. */
export type SendGroup<T> = (workflowId: string, reports: T[]) => Promise<void>;

interface OpenGroup<T> {
  reports: T[];
  told: Array<{ resolve: () => void; reject: (err: unknown) => void }>;
  timer: NodeJS.Timeout;
}

/**
 * Gathers the reports this worker sends one waiter (a bulk batch) within `lingerMs` of the first, and sends them as
 * one signal: a batch of thousands is told of each prisoner's resync by a third as many signals or fewer, each of
 * which the server writes to the batch's history and the batch's workflow handles in its own activation.
 *
 * Nothing is acknowledged before it is sent: `report` resolves only when the group holding it has reached the
 * waiter, and rejects if that send failed, so the activity that reported fails and is retried (the waiter counts a
 * prisoner once, however often told). A worker that dies meanwhile has acknowledged none of its open groups.
 */
export class ReportGroups<T> {
  private readonly open = new Map<string, OpenGroup<T>>();

  constructor(
    private readonly send: SendGroup<T>,
    private readonly lingerMs: number,
    /** A group this large goes at once: a signal's payload stays far below Temporal's limits. */
    private readonly maxGroup = 100,
  ) {}

  report(workflowId: string, report: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let group = this.open.get(workflowId);
      if (!group) {
        group = { reports: [], told: [], timer: setTimeout(() => this.flush(workflowId), this.lingerMs) };
        this.open.set(workflowId, group);
      }
      group.reports.push(report);
      group.told.push({ resolve, reject });
      if (group.reports.length >= this.maxGroup) this.flush(workflowId);
    });
  }

  private flush(workflowId: string): void {
    const group = this.open.get(workflowId);
    if (!group) return;
    this.open.delete(workflowId);
    clearTimeout(group.timer);
    // Called from a then(), so a send that throws at once fails the group's reports like one that rejects.
    Promise.resolve()
      .then(() => this.send(workflowId, group.reports))
      .then(
        () => group.told.forEach((t) => t.resolve()),
        (err: unknown) => group.told.forEach((t) => t.reject(err)),
      );
  }
}
