import type { Config } from '../common/config';
import { HmppsAuthClient } from './auth';
import { DpsAlertsApiClient } from './dps';
import { NomisApiClient } from './nomis';

export interface ApiClients {
  auth: HmppsAuthClient;
  nomis: NomisApiClient;
  dps: DpsAlertsApiClient;
  close(): Promise<void>;
}

/** One client (one connection pool) per external API, sharing one token cache. */
export function createApiClients(apis: Config['apis']): ApiClients {
  const auth = new HmppsAuthClient(apis.authUrl, apis.clientId, apis.clientSecret, apis.timeoutMs);
  const nomis = new NomisApiClient(apis.nomisUrl, auth, apis.timeoutMs);
  const dps = new DpsAlertsApiClient(apis.dpsUrl, auth, apis.timeoutMs);
  return {
    auth,
    nomis,
    dps,
    close: async () => {
      await Promise.all([nomis.close(), dps.close(), auth.close()]);
    },
  };
}
