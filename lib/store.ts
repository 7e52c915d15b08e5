import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLE_KEYS } from '../lambdas/core/store/table';

export interface StoreProps {
  /**
   * What happens to the table when the stack is deleted. Buckets, token hashes and devices are the
   * user's data, so the default keeps them.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Herald's single DynamoDB table (key design in `lambdas/core/store/table.ts`): on-demand,
 * point-in-time recovery, TTL on `expiresAt`, AWS-managed encryption, retained on stack delete.
 */
export class Store extends Construct {
  public readonly table: dynamodb.ITable;

  constructor(scope: Construct, id: string, props: StoreProps = {}) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TABLE_KEYS.timeToLive,
      deletionProtection: false,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }
}
