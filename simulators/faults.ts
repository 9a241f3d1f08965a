import { z } from 'zod';
import type { ApiName, SimResponse } from './http';
import { errorBody } from './http';
import { createRng } from './random';
import type { Rng } from './random';

// Runtime-controlled faults on the contract API endpoints (never the /__sim control endpoints, or a test could
// not undo them). The first rule that matches and fires decides the request:
//   - latencyMs delays it; then
//   - hang leaves it unanswered until the client gives up, otherwise
//   - it is answered with `status` (default 503) when that is an error (>= 400); a rule with only latencyMs,
//     or with a non-error status such as 200, slows the call and then lets the real handler answer it;
//   - with `body`, it is answered with that body and `status` (default 200) instead: a response that breaks
//     the contract, as a real system's bad data would.
// errorRate is the chance a matching request fires the rule (a seeded RNG, so tests repeat); times caps how
// many requests the rule fires for, after which it stays listed, spent.

export const faultRuleSchema = z.object({
  api: z.enum(['nomis', 'dps', 'auth']),
  method: z
    .string()
    .regex(/^[A-Za-z]+$/, 'must be an HTTP method')
    .transform((m) => m.toUpperCase())
    .optional(),
  path: z
    .string()
    .refine((source) => {
      try {
        new RegExp(source);
        return true;
      } catch {
        return false;
      }
    }, 'must be a valid regular expression')
    .optional(),
  errorRate: z.number().min(0).max(1).optional(),
  status: z.number().int().min(100).max(599).optional(),
  latencyMs: z.number().int().min(0).max(600_000).optional(),
  hang: z.boolean().optional(),
  times: z.number().int().positive().optional(),
  retryAfterSeconds: z.number().int().min(0).optional(),
  body: z.unknown().optional(),
});
export type FaultRule = z.input<typeof faultRuleSchema>;

/** `POST /__sim/faults` takes a bare list of rules, or `{ rules, seed }` to also reseed the RNG. */
export const setFaultsRequestSchema = z.union([
  z.array(faultRuleSchema),
  z.object({ rules: z.array(faultRuleSchema), seed: z.number().int().optional() }),
]);

interface ActiveRule {
  rule: z.output<typeof faultRuleSchema>;
  regex: RegExp | undefined;
  fired: number;
}

/** What `GET /__sim/faults` answers (FaultInjector.stats()): the rules with how often each fired, and counters. */
export const faultStatsSchema = z.object({
  seed: z.number(),
  rules: z.array(faultRuleSchema.extend({ fired: z.number().int(), remaining: z.number().int().nullable() })),
  requests: z.record(z.number().int()),
  faultsInjected: z.record(z.number().int()),
});
export type FaultStats = z.infer<typeof faultStatsSchema>;

export type FaultDecision = { latencyMs: number; then: SimResponse | 'hang' | 'pass' };

export class FaultInjector {
  private rules: ActiveRule[] = [];
  private rng: Rng;
  private readonly requests = new Map<string, number>();
  private readonly injected = new Map<string, number>();

  constructor(private seed: number) {
    this.rng = createRng(seed);
  }

  set(request: z.output<typeof setFaultsRequestSchema>): void {
    const rules = Array.isArray(request) ? request : request.rules;
    if (!Array.isArray(request) && request.seed !== undefined) this.reseed(request.seed);
    this.rules = rules.map((rule) => ({
      rule,
      regex: rule.path === undefined ? undefined : new RegExp(rule.path),
      fired: 0,
    }));
  }

  clear(): void {
    this.rules = [];
  }

  reseed(seed: number): void {
    this.seed = seed;
    this.rng = createRng(seed);
  }

  reset(): void {
    this.clear();
    this.requests.clear();
    this.injected.clear();
    this.reseed(this.seed);
  }

  /** Counts the request under its route, then says what fault, if any, it gets. */
  decide(api: ApiName, method: string, path: string, routePattern: string): FaultDecision | undefined {
    const endpoint = `${api} ${method} ${routePattern}`;
    this.requests.set(endpoint, (this.requests.get(endpoint) ?? 0) + 1);
    const index = this.rules.findIndex((active) => this.fires(active, api, method, path));
    const active = this.rules[index];
    if (!active) return undefined;
    active.fired += 1;
    this.injected.set(endpoint, (this.injected.get(endpoint) ?? 0) + 1);
    const { rule } = active;
    const latencyMs = rule.latencyMs ?? 0;
    if (rule.hang) return { latencyMs, then: 'hang' };
    if (rule.body !== undefined)
      return { latencyMs, then: { status: rule.status ?? 200, body: rule.body, headers: {} } };
    const status = rule.status ?? (rule.latencyMs === undefined ? 503 : 200);
    if (status < 400) return { latencyMs, then: 'pass' };
    return {
      latencyMs,
      then: {
        status,
        body: errorBody(status, 'Simulated fault', `fault rule #${index} on ${api}`),
        headers: rule.retryAfterSeconds === undefined ? {} : { 'retry-after': String(rule.retryAfterSeconds) },
      },
    };
  }

  stats(): FaultStats {
    return {
      seed: this.seed,
      rules: this.rules.map(({ rule, fired }) => ({
        ...rule,
        fired,
        remaining: rule.times === undefined ? null : Math.max(rule.times - fired, 0),
      })),
      requests: Object.fromEntries(this.requests),
      faultsInjected: Object.fromEntries(this.injected),
    };
  }

  private fires(active: ActiveRule, api: ApiName, method: string, path: string): boolean {
    const { rule, regex } = active;
    if (rule.api !== api) return false;
    if (rule.method !== undefined && rule.method !== method) return false;
    if (regex && !regex.test(path)) return false;
    if (rule.times !== undefined && active.fired >= rule.times) return false;
    const errorRate = rule.errorRate ?? 1;
    // Only a partial rate draws from the RNG, so adding an always-on rule does not shift the sequence.
    return errorRate >= 1 || this.rng() < errorRate;
  }
}
