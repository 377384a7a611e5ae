/**
 * The AWS SDK clients deploy, destroy, init github-actions and status talk to, built in one place so
 * tests can pass their own.
 * Endpoints are left to the SDK, which reads AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>
 * itself, so a whole deployment can target an emulator without a flag.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import { EventBridgeClient } from '@aws-sdk/client-eventbridge'
import { IAMClient } from '@aws-sdk/client-iam'
import { LambdaClient } from '@aws-sdk/client-lambda'
import { S3Client } from '@aws-sdk/client-s3'
import { SchedulerClient } from '@aws-sdk/client-scheduler'
import { SNSClient } from '@aws-sdk/client-sns'
import { SSMClient } from '@aws-sdk/client-ssm'
import { STSClient } from '@aws-sdk/client-sts'

export interface AwsClients {
  iam: IAMClient
  lambda: LambdaClient
  scheduler: SchedulerClient
  events: EventBridgeClient
  ssm: SSMClient
  sts: STSClient
  /** The alert topic and its email subscriptions (deploy --alert-email). */
  sns: SNSClient
  /** The deployment's alarms. */
  cloudwatch: CloudWatchClient
  /** Only to check that the bucket exists (HeadBucket); never writes. */
  s3: S3Client
}

export interface AwsClientConfig {
  region?: string
  profile?: string
}

export type AwsClientFactory = (config: AwsClientConfig) => AwsClients

export const createAwsClients: AwsClientFactory = (config) => {
  const base = {
    ...(config.region ? { region: config.region } : {}),
    ...(config.profile ? { profile: config.profile } : {}),
    // A few more attempts than the default 3: IAM and Lambda throttle bursts of control-plane calls.
    maxAttempts: 5,
  }
  return {
    iam: new IAMClient(base),
    lambda: new LambdaClient(base),
    scheduler: new SchedulerClient(base),
    events: new EventBridgeClient(base),
    ssm: new SSMClient(base),
    sts: new STSClient(base),
    sns: new SNSClient(base),
    cloudwatch: new CloudWatchClient(base),
    s3: new S3Client({
      ...base,
      // The bucket may be in another region than the function: follow S3's redirect to it.
      followRegionRedirects: true,
      // An emulator (AWS_ENDPOINT_URL) has no per-bucket host names.
      forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL),
    }),
  }
}

export function destroyClients(clients: AwsClients): void {
  for (const client of Object.values(clients)) client.destroy()
}
