/**
 * The one SDK client factory. Given a resolved connection (the local stack's endpoint and
 * credentials, or AWS settings left to the SDK's default chain), builds SDK v3 clients on first
 * use. Client packages are imported lazily so `mlpipe --help` never loads the SDK.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { GlueClient } from '@aws-sdk/client-glue';
import type { PersonalizeClient } from '@aws-sdk/client-personalize';
import type { PersonalizeRuntimeClient } from '@aws-sdk/client-personalize-runtime';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { Target } from './config.js';

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Everything needed to reach a target. */
export interface Connection {
  target: Target;
  /** Undefined: the SDK's default chain decides (aws target only). */
  region: string | undefined;
  /** Undefined: the service's public endpoint (aws target) or AWS_ENDPOINT_URL_<SERVICE>. */
  endpoint: string | undefined;
  /** Set for the local stack; on aws the SDK's credential chain (with `profile`) is used. */
  credentials: StaticCredentials | undefined;
  profile: string | undefined;
}

interface CommonClientConfig {
  region?: string;
  endpoint?: string;
  credentials?: StaticCredentials;
  profile?: string;
  maxAttempts?: number;
}

export function clientConfig(connection: Connection): CommonClientConfig {
  const config: CommonClientConfig = {};
  if (connection.region !== undefined) config.region = connection.region;
  if (connection.endpoint !== undefined) config.endpoint = connection.endpoint;
  if (connection.credentials !== undefined) config.credentials = connection.credentials;
  if (connection.profile !== undefined) config.profile = connection.profile;
  return config;
}

export class Clients {
  private s3Client: S3Client | undefined;
  private cloudFormationClient: CloudFormationClient | undefined;
  private glueClient: GlueClient | undefined;
  private personalizeClient: PersonalizeClient | undefined;
  private logsClient: CloudWatchLogsClient | undefined;
  private sfnClient: SFNClient | undefined;
  private personalizeRuntimeClient: PersonalizeRuntimeClient | undefined;
  private eventsClient: EventBridgeClient | undefined;

  constructor(readonly connection: Connection) {}

  async s3(): Promise<S3Client> {
    if (this.s3Client === undefined) {
      const { S3Client: Client } = await import('@aws-sdk/client-s3');
      this.s3Client = new Client({
        ...clientConfig(this.connection),
        // Path-style addressing: the local stack serves every bucket on one host.
        forcePathStyle: this.connection.target === 'local' || this.connection.endpoint !== undefined,
      });
    }
    return this.s3Client;
  }

  async cloudformation(): Promise<CloudFormationClient> {
    if (this.cloudFormationClient === undefined) {
      const { CloudFormationClient: Client } = await import('@aws-sdk/client-cloudformation');
      this.cloudFormationClient = new Client(clientConfig(this.connection));
    }
    return this.cloudFormationClient;
  }

  async glue(): Promise<GlueClient> {
    if (this.glueClient === undefined) {
      const { GlueClient: Client } = await import('@aws-sdk/client-glue');
      this.glueClient = new Client(clientConfig(this.connection));
    }
    return this.glueClient;
  }

  async personalize(): Promise<PersonalizeClient> {
    if (this.personalizeClient === undefined) {
      const { PersonalizeClient: Client } = await import('@aws-sdk/client-personalize');
      this.personalizeClient = new Client(clientConfig(this.connection));
    }
    return this.personalizeClient;
  }

  /** CloudWatch Logs, where Glue runs write their logs (on both targets). */
  async logs(): Promise<CloudWatchLogsClient> {
    if (this.logsClient === undefined) {
      const { CloudWatchLogsClient: Client } = await import('@aws-sdk/client-cloudwatch-logs');
      this.logsClient = new Client(clientConfig(this.connection));
    }
    return this.logsClient;
  }

  /** Personalize Runtime: a campaign's real-time recommendations. */
  async personalizeRuntime(): Promise<PersonalizeRuntimeClient> {
    if (this.personalizeRuntimeClient === undefined) {
      const { PersonalizeRuntimeClient: Client } = await import('@aws-sdk/client-personalize-runtime');
      this.personalizeRuntimeClient = new Client(clientConfig(this.connection));
    }
    return this.personalizeRuntimeClient;
  }

  /** Step Functions: the pipeline's state machine and its executions. */
  async sfn(): Promise<SFNClient> {
    if (this.sfnClient === undefined) {
      const { SFNClient: Client } = await import('@aws-sdk/client-sfn');
      this.sfnClient = new Client(clientConfig(this.connection));
    }
    return this.sfnClient;
  }

  /** EventBridge: the pipeline's schedule rule. */
  async events(): Promise<EventBridgeClient> {
    if (this.eventsClient === undefined) {
      const { EventBridgeClient: Client } = await import('@aws-sdk/client-eventbridge');
      this.eventsClient = new Client(clientConfig(this.connection));
    }
    return this.eventsClient;
  }

  /** Releases sockets so the process can exit promptly. */
  destroy(): void {
    this.s3Client?.destroy();
    this.s3Client = undefined;
    this.cloudFormationClient?.destroy();
    this.cloudFormationClient = undefined;
    this.glueClient?.destroy();
    this.glueClient = undefined;
    this.personalizeClient?.destroy();
    this.personalizeClient = undefined;
    this.logsClient?.destroy();
    this.logsClient = undefined;
    this.sfnClient?.destroy();
    this.sfnClient = undefined;
    this.personalizeRuntimeClient?.destroy();
    this.personalizeRuntimeClient = undefined;
    this.eventsClient?.destroy();
    this.eventsClient = undefined;
  }
}
