import { randomInt } from 'node:crypto';

const letter = () => String.fromCharCode(65 + randomInt(26));

/** Workflow ids contain the prison number, so every test makes up its own prisoners. */
export function randomPrisonNumber(): string {
  return `${letter()}${String(randomInt(10_000)).padStart(4, '0')}${letter()}${letter()}`;
}
