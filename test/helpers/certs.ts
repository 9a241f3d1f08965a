import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface TestCertificates {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** With `client: true`: a certificate for mTLS clients, signed by the same CA. */
  client?: { certFile: string; keyFile: string };
}

/**
 * A throwaway CA and a server certificate it signs, for localhost and 127.0.0.1, written to dir as ca.pem,
 * server.pem and server-key.pem (the layout the stack's TLS dir settings expect), and with `client: true` also
 * client.pem and client-key.pem. EC keys: quick to make, and OpenSSL 3 writes them unencrypted PKCS#8, which
 * Kafka's PEM keystore reads.
 */
export function makeServerCertificates(dir: string, options: { client?: boolean } = {}): TestCertificates {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=alerts-sync test CA',
  );
  const sign = (name: string, subject: string, extensions: string) => {
    fs.writeFileSync(path.join(dir, `${name}.ext`), extensions);
    openssl('req', ...ec, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', subject);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      `${name}.pem`,
      '-extfile',
      `${name}.ext`,
    );
    return { certFile: path.join(dir, `${name}.pem`), keyFile: path.join(dir, `${name}-key.pem`) };
  };
  const server = sign(
    'server',
    '/CN=localhost',
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
  const client = options.client
    ? sign('client', '/CN=alerts-sync test client', 'extendedKeyUsage=clientAuth\n')
    : undefined;
  return { caFile: path.join(dir, 'ca.pem'), ...server, client };
}
