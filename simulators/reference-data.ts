import { badRequest } from './http';

// The alert codes both NOMIS and DPS know. DPS's reference data mirrors NOMIS's, so one table serves both
// simulators; a code outside it is rejected with 400 as the real APIs do.

export interface AlertCode {
  code: string;
  description: string;
  type: { code: string; description: string };
}

const SECURITY = { code: 'X', description: 'Security' };
const SELF_HARM = { code: 'H', description: 'Self Harm' };
const VULNERABILITY = { code: 'V', description: 'Vulnerability' };
const MEDICAL = { code: 'M', description: 'Medical' };
const RISK = { code: 'R', description: 'Risk' };

export const ALERT_CODES: readonly AlertCode[] = [
  { code: 'XA', description: 'Arsonist', type: SECURITY },
  { code: 'XSA', description: 'Staff Assaulter', type: SECURITY },
  { code: 'XEL', description: 'Escape List', type: SECURITY },
  { code: 'HA', description: 'ACCT Open (HMPS)', type: SELF_HARM },
  { code: 'HS', description: 'Self Harm', type: SELF_HARM },
  { code: 'VI', description: 'Victim', type: VULNERABILITY },
  { code: 'PEEP', description: 'Personal Emergency Evacuation Plan', type: MEDICAL },
  { code: 'RSS', description: 'Risk to Staff', type: RISK },
  { code: 'RCP', description: 'Risk to Children', type: RISK },
];

const BY_CODE = new Map(ALERT_CODES.map((alertCode) => [alertCode.code, alertCode]));

export function requireAlertCode(code: string, field = 'alertCode'): AlertCode {
  const found = BY_CODE.get(code);
  if (!found) throw badRequest(`${field}: unknown alert code "${code}" (known: ${[...BY_CODE.keys()].join(', ')})`);
  return found;
}
