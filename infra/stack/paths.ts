import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../common/config';
import { ProcessManager } from '../processes';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** Downloads and builds shared by every stack on this machine (git-ignored). */
const CACHE_DIR = path.join(REPO_ROOT, '.stack');
export const TEMPORAL_BIN = path.join(CACHE_DIR, 'bin', 'temporal');
export const TEMPORAL_SERVER_BIN = path.join(CACHE_DIR, 'bin', 'temporal-server');
export const TEMPORAL_SQL_TOOL = path.join(CACHE_DIR, 'bin', 'temporal-sql-tool');
export const TEMPORAL_UI_BIN = path.join(CACHE_DIR, 'bin', 'temporal-ui-server');
export const TEMPORAL_SCHEMA_DIR = path.join(CACHE_DIR, 'temporal-schema');
export const KAFKA_LIBS = path.join(CACHE_DIR, 'kafka-libs');

export function stateDir(config: Config): string {
  return path.resolve(REPO_ROOT, config.stackDir);
}

export function processManager(config: Config): ProcessManager {
  return new ProcessManager(stateDir(config));
}

export function requireFile(file: string, what: string): string {
  if (!fs.existsSync(file)) throw new Error(`Missing ${what}: ${file} not found`);
  return file;
}

export function installedVersion(binary: string): string {
  try {
    return fs.readFileSync(`${binary}.version`, 'utf8').trim();
  } catch {
    return '(version unknown)';
  }
}

export async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return response.ok;
}

export function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '****';
  return parsed.toString();
}
