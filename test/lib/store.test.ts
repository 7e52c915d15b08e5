import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Store, type StoreProps } from '../../lib/store';

const TABLE = 'AWS::DynamoDB::GlobalTable';

function synth(props?: StoreProps): Template {
  const stack = new Stack(new App(), 'Test');
  new Store(stack, 'Store', props);
  return Template.fromStack(stack);
}

describe('Store', () => {
  let template: Template;
  beforeAll(() => {
    template = synth();
  });

  test('creates exactly one table', () => {
    template.resourceCountIs(TABLE, 1);
  });

  test('keys the table on string pk (partition) and sk (sort), with no secondary index', () => {
    template.hasResourceProperties(TABLE, {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      GlobalSecondaryIndexes: Match.absent(),
      LocalSecondaryIndexes: Match.absent(),
    });
  });

  test('bills on demand', () => {
    template.hasResourceProperties(TABLE, { BillingMode: 'PAY_PER_REQUEST' });
  });

  test('turns point-in-time recovery on', () => {
    template.hasResourceProperties(TABLE, {
      Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
    });
  });

  test('expires items on the expiresAt attribute', () => {
    template.hasResourceProperties(TABLE, {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  test('keeps the table (the users\' data) when the stack is deleted or the table replaced, by default', () => {
    template.hasResource(TABLE, { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('removalPolicy overrides the default', () => {
    // WHEN
    const destroyable = synth({ removalPolicy: RemovalPolicy.DESTROY });

    // THEN
    destroyable.hasResource(TABLE, { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
  });
});
