import type { Command } from 'commander';
import type { z } from 'zod';
import type { deviceSchema } from '../../lambdas/core/admin/contract';
import { adminPath, connect, targetOptions, type TargetOptions } from './client';
import { print, printTable, type OutputOptions } from './output';

type DeviceView = z.infer<typeof deviceSchema>;

function deviceStatus(device: DeviceView): string {
  return device.enabled ? 'enabled' : `disabled${device.disabledReason ? `: ${device.disabledReason}` : ''}`;
}

export function registerDeviceCommands(program: Command): void {
  const device = program.command('device').description("manage a bucket's devices (the phones the app registered)");

  targetOptions(device.command('list').description("list a bucket's devices").argument('<bucket>', 'bucket id or name')).action(
    async (bucket: string, options: TargetOptions & OutputOptions) => {
      const herald = await connect(options);
      const devices: DeviceView[] = [];
      let cursor: string | undefined;
      do {
        const page = await herald.admin<{ devices: DeviceView[]; cursor?: string }>('GET', adminPath('buckets', bucket, 'devices'), { query: { limit: 200, cursor } });
        devices.push(...page.devices);
        cursor = page.cursor;
      } while (cursor);
      printTable(options, { devices }, devices, [
        ['ID', (item) => item.id],
        ['PLATFORM', (item) => (item.environment ? `${item.platform} (${item.environment})` : item.platform)],
        ['NAME', (item) => item.name],
        ['UPDATED', (item) => item.updatedAt],
        ['STATUS', deviceStatus],
      ], `Bucket ${bucket} has no devices: the app registers them with a token that has the "devices" scope.`);
    },
  );

  targetOptions(
    device
      .command('disable')
      .description('stop pushing to a device (the app re-enables it when it refreshes its push token)')
      .argument('<bucket>', 'bucket id or name')
      .argument('<deviceId>', 'the device\'s ID (from "herald device list")'),
  ).action(async (bucket: string, deviceId: string, options: TargetOptions & OutputOptions) => {
    const { device: disabled } = await (await connect(options)).admin<{ device: DeviceView }>('POST', adminPath('buckets', bucket, 'devices', deviceId, 'disable'));
    print(options, { device: disabled }, [
      ['Device', disabled.id],
      ['Name', disabled.name],
      ['Status', deviceStatus(disabled)],
    ]);
  });

  targetOptions(
    device
      .command('delete')
      .description('delete a device and its push endpoint')
      .argument('<bucket>', 'bucket id or name')
      .argument('<deviceId>', 'the device\'s ID (from "herald device list")'),
  ).action(async (bucket: string, deviceId: string, options: TargetOptions & OutputOptions) => {
    await (await connect(options)).admin('DELETE', adminPath('buckets', bucket, 'devices', deviceId));
    print(options, { bucket, device: deviceId, deleted: true }, [['Deleted device', `${deviceId} of bucket ${bucket}`]]);
  });
}
