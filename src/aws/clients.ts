/**
 * The AWS SDK clients deploy, destroy, init github-actions and status talk to, built in one place so
 * tests can pass their own.
 * Endpoints are left to the SDK, which reads AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>
 * itself, so a whole deployment can target an emulator without a flag.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge'
import { IAMClient } from '@aws-sdk/client-iam'
import { LambdaClient } from '@aws-sdk/client-lambda'
import { SchedulerClient } from '@aws-sdk/client-scheduler'
import { SSMClient } from '@aws-sdk/client-ssm'
import { STSClient } from '@aws-sdk/client-sts'

export interface AwsClients {
  iam: IAMClient
  lambda: LambdaClient
  scheduler: SchedulerClient
  events: EventBridgeClient
  ssm: SSMClient
  sts: STSClient
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
  }
}

export function destroyClients(clients: AwsClients): void {
  for (const client of Object.values(clients)) client.destroy()
}
