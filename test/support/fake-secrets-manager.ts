// A fake AWS Secrets Manager on loopback, for tests of the functions' secret path with the real SDK client pointed at
// it (AWS_ENDPOINT_URL_SECRETS_MANAGER). It speaks the AWS JSON 1.1 protocol the SDK uses: POST / with
// `x-amz-target: secretsmanager.<Operation>` and a JSON body, answering as Secrets Manager does, errors included
// (`{"__type", "message"}` with the service's status codes). Covered: GetSecretValue and PutSecretValue, with
// version ids, the AWSCURRENT / AWSPREVIOUS staging labels and PutSecretValue's idempotency token; requests must
// be SigV4-signed for secretsmanager, as AWS requires. Secrets are created by the test (createSecret). It never
// prints what it holds or receives.
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';

type Version = { versionId: string; secretString: string; stages: string[]; createdDate: Date };
type Secret = { arn: string; name: string; versions: Version[] };

/** One request as the fake received it: the operation and the secret asked for, never the body's values. */
export type SecretsManagerRequest = { operation: string; secretId?: string; versionStage?: string };

/** An error as Secrets Manager answers it. */
class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const notFound = () => new ServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");

/** A fake Secrets Manager on 127.0.0.1 (port 0). Start it in beforeAll, stop it in afterAll. */
export class FakeSecretsManager {
  /** Every request received, in order. */
  readonly requests: SecretsManagerRequest[] = [];
  private readonly secrets = new Map<string, Secret>();
  private readonly server: http.Server;
  private readonly failures: { operation: string; error: ServiceError }[] = [];
  private baseUrl?: string;

  constructor() {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) this.answer(res, 500, { __type: 'InternalServiceError', message: 'fake Secrets Manager failed' });
      });
    });
  }

  /** Listens on 127.0.0.1 and a free port; `url` is the endpoint to give the SDK. */
  async start(): Promise<{ url: string }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return { url: this.baseUrl };
  }

  get url(): string {
    if (!this.baseUrl) throw new Error('FakeSecretsManager: call start() first');
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /**
   * Creates a secret as `aws secretsmanager create-secret` does: with its first value as AWSCURRENT, or with no value
   * yet (GetSecretValue then answers ResourceNotFoundException until one is put). Returns its ARN.
   */
  createSecret(name: string, secretString?: string): string {
    // AWS appends a hyphen and six random characters to the name in a secret's ARN.
    const arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-${randomBytes(3).toString('hex')}`;
    const secret: Secret = { arn, name, versions: [] };
    this.secrets.set(arn, secret);
    if (secretString !== undefined) this.put(secret, secretString, randomUUID());
    return arn;
  }

  /** Deletes a secret at once (as with --force-delete-without-recovery): reads of it answer ResourceNotFoundException. */
  deleteSecret(secretId: string): void {
    const secret = this.find(secretId);
    if (secret) this.secrets.delete(secret.arn);
  }

  /** The next `operation` request gets this error instead of its answer (for example ThrottlingException). */
  failNext(operation: string, type: string, message: string, status = 400): void {
    this.failures.push({ operation, error: new ServiceError(type, message, status) });
  }

  /** Requests for one operation (for example how many times the secret was read). */
  requestsFor(operation: string): SecretsManagerRequest[] {
    return this.requests.filter((r) => r.operation === operation);
  }

  private find(secretId: string): Secret | undefined {
    return this.secrets.get(secretId) ?? [...this.secrets.values()].find((s) => s.name === secretId);
  }

  private put(secret: Secret, secretString: string, versionId: string): Version {
    for (const version of secret.versions) {
      // The old AWSPREVIOUS loses its label; the old AWSCURRENT becomes AWSPREVIOUS.
      version.stages = version.stages.filter((stage) => stage !== PREVIOUS).map((stage) => (stage === CURRENT ? PREVIOUS : stage));
    }
    const version: Version = { versionId, secretString, stages: [CURRENT], createdDate: new Date() };
    secret.versions.push(version);
    return version;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('secretsmanager.') ? target.slice('secretsmanager.'.length) : target;
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      this.requests.push({ operation });
      this.answer(res, 400, { __type: 'SerializationException', message: 'Start of structure or map found where not expected.' });
      return;
    }
    const secretId = typeof body.SecretId === 'string' ? body.SecretId : undefined;
    const versionStage = typeof body.VersionStage === 'string' ? body.VersionStage : undefined;
    this.requests.push({ operation, ...(secretId !== undefined ? { secretId } : {}), ...(versionStage !== undefined ? { versionStage } : {}) });
    try {
      if (req.method !== 'POST' || !String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) {
        throw new ServiceError('UnknownOperationException', 'Operations are POSTs of application/x-amz-json-1.1');
      }
      // SigV4 for this service: AWS refuses an unsigned request, or one signed for another service.
      if (!/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/secretsmanager\/aws4_request, /.test(String(req.headers.authorization ?? ''))) {
        throw new ServiceError('MissingAuthenticationTokenException', 'Missing Authentication Token');
      }
      const failure = this.failures.findIndex((f) => f.operation === operation);
      if (failure >= 0) throw this.failures.splice(failure, 1)[0]!.error;
      if (operation === 'GetSecretValue') this.answer(res, 200, this.getSecretValue(body));
      else if (operation === 'PutSecretValue') this.answer(res, 200, this.putSecretValue(body));
      else throw new ServiceError('UnknownOperationException', `The fake does not implement ${target || 'an operation without x-amz-target'}`);
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      this.answer(res, error.status, { __type: error.type, message: error.message }, error.type);
    }
  }

  private getSecretValue(body: Record<string, unknown>) {
    if (typeof body.SecretId !== 'string' || body.SecretId === '') throw new ServiceError('InvalidParameterException', 'You must provide a SecretId.');
    const secret = this.find(body.SecretId);
    if (!secret) throw notFound();
    const stage = typeof body.VersionStage === 'string' ? body.VersionStage : undefined;
    const versionId = typeof body.VersionId === 'string' ? body.VersionId : undefined;
    const version = secret.versions.find((v) =>
      versionId !== undefined ? v.versionId === versionId && (stage === undefined || v.stages.includes(stage)) : v.stages.includes(stage ?? CURRENT),
    );
    if (!version) {
      throw new ServiceError(
        'ResourceNotFoundException',
        versionId !== undefined
          ? `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`
          : `Secrets Manager can't find the specified secret value for staging label: ${stage ?? CURRENT}`,
      );
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.versionId,
      SecretString: version.secretString,
      VersionStages: version.stages,
      // The JSON protocol carries timestamps as epoch seconds.
      CreatedDate: version.createdDate.getTime() / 1000,
    };
  }

  private putSecretValue(body: Record<string, unknown>) {
    if (typeof body.SecretId !== 'string' || body.SecretId === '') throw new ServiceError('InvalidParameterException', 'You must provide a SecretId.');
    if (typeof body.SecretString !== 'string') {
      throw new ServiceError('InvalidParameterException', 'You must provide either SecretString or SecretBinary (the fake takes SecretString only).');
    }
    const secret = this.find(body.SecretId);
    if (!secret) throw notFound();
    // ClientRequestToken is the new version's id and makes the call idempotent (the SDK fills it in).
    const token = typeof body.ClientRequestToken === 'string' ? body.ClientRequestToken : randomUUID();
    const existing = secret.versions.find((v) => v.versionId === token);
    if (existing) {
      if (existing.secretString !== body.SecretString) {
        throw new ServiceError('ResourceExistsException', 'You can\'t modify an existing version, you can only create a new version.');
      }
      return { ARN: secret.arn, Name: secret.name, VersionId: existing.versionId, VersionStages: existing.stages };
    }
    const version = this.put(secret, body.SecretString, token);
    return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: version.stages };
  }

  private answer(res: http.ServerResponse, status: number, body: unknown, errorType?: string): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
      ...(errorType ? { 'x-amzn-errortype': `${errorType}:` } : {}),
    });
    res.end(text);
  }
}
