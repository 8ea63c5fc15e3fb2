import { createPrivateKey, webcrypto } from 'node:crypto';
import { x509 } from 'node-opcua-crypto';
import type { RootCa, SigningCredential } from '../../../services/trust/pki';

const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
};

/**
 * A certificate our own root issued with a TLS profile (serverAuth/clientAuth, like the
 * OPC-UA profile docs/trust.md warns about): chains fine, must still not be accepted as a seal.
 */
export async function issueTlsCertificate(root: RootCa): Promise<SigningCredential> {
  const keys = (await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const rootDer = createPrivateKey(root.privateKeyPem).export({ type: 'pkcs8', format: 'der' });
  const rootKey = await webcrypto.subtle.importKey('pkcs8', rootDer, RSA, false, ['sign']);
  const rootCert = new x509.X509Certificate(root.certificatePem);
  const notBefore = new Date(Date.now() - 3_600_000);
  const cert = await x509.X509CertificateGenerator.create({
    issuer: rootCert.subjectName,
    subject: 'C=CN, CN=certflow.example.gov.cn',
    notBefore,
    notAfter: new Date(notBefore.getTime() + 30 * 86_400_000),
    publicKey: keys.publicKey,
    signingKey: rootKey,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'], true),
      await x509.AuthorityKeyIdentifierExtension.create(rootCert.publicKey),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    privateKeyPem: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })
      .export({ type: 'pkcs8', format: 'pem' })
      .toString(),
    certificatePem: `${cert.toString('pem')}\n`,
    chainPem: [root.certificatePem],
  };
}
