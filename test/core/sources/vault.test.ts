import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SecretsManagerVault, signingKeyName } from '../../../lambdas/core/sources/vault';

const secrets = mockClient(SecretsManagerClient);
const notFound = () => new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} });

beforeEach(() => secrets.reset());

describe('SecretsManagerVault', () => {
  test('names a source key by bucket and source', () => {
    expect(signingKeyName('b-1', 'zitadel')).toBe('herald/source/b-1/zitadel');
  });

  test('reads a key once and serves it from memory after', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: 'herald/source/b/zitadel' }).resolves({ SecretString: 'k1' });
    const vault = new SecretsManagerVault(new SecretsManagerClient({ region: 'us-east-1' }));
    expect(await vault.get('herald/source/b/zitadel')).toBe('k1');
    expect(await vault.get('herald/source/b/zitadel')).toBe('k1');
    expect(secrets).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
  });

  test('a missing secret is undefined, not an error', async () => {
    secrets.on(GetSecretValueCommand).rejects(notFound());
    const vault = new SecretsManagerVault(new SecretsManagerClient({ region: 'us-east-1' }));
    expect(await vault.get('herald/source/b/okta')).toBeUndefined();
  });

  test('other errors propagate', async () => {
    secrets.on(GetSecretValueCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const vault = new SecretsManagerVault(new SecretsManagerClient({ region: 'us-east-1' }));
    await expect(vault.get('herald/source/b/okta')).rejects.toThrow('denied');
  });

  test('put updates an existing secret, or creates it', async () => {
    secrets.on(PutSecretValueCommand).rejectsOnce(notFound()).resolves({});
    secrets.on(CreateSecretCommand).resolves({});
    const vault = new SecretsManagerVault(new SecretsManagerClient({ region: 'us-east-1' }));
    await vault.put('herald/source/b/logto', 'first');
    await vault.put('herald/source/b/logto', 'second');
    expect(secrets).toHaveReceivedCommandWith(CreateSecretCommand, { Name: 'herald/source/b/logto', SecretString: 'first' });
    expect(secrets.commandCalls(PutSecretValueCommand).map((call) => call.args[0].input)).toEqual([
      { SecretId: 'herald/source/b/logto', SecretString: 'first' },
      { SecretId: 'herald/source/b/logto', SecretString: 'second' },
    ]);
  });

  test('put drops the cached value, so the new key is read', async () => {
    secrets.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'old' }).resolves({ SecretString: 'new' });
    secrets.on(PutSecretValueCommand).resolves({});
    const vault = new SecretsManagerVault(new SecretsManagerClient({ region: 'us-east-1' }));
    expect(await vault.get('n')).toBe('old');
    await vault.put('n', 'new');
    expect(await vault.get('n')).toBe('new');
  });

  test('delete removes the secret at once, and a missing one is fine', async () => {
    secrets.on(DeleteSecretCommand).rejects(notFound());
    const vault = new SecretsManagerVault(new SecretsManagerClient({ region: 'us-east-1' }));
    await vault.delete('herald/source/b/clerk');
    expect(secrets).toHaveReceivedCommandWith(DeleteSecretCommand, { SecretId: 'herald/source/b/clerk', ForceDeleteWithoutRecovery: true });
  });
});
