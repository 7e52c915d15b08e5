import { resolveLocalhostSubdomains } from '../../lambdas/local/localhost-dns';
import { startDelivery, type DeliveryConfig } from './chaos-delivery';

/**
 * A chaos delivery process (forked by pipeline.chaos.test.ts, run with tsx): starts the delivery
 * side on `start`, and on `stop` stops it and sends back what it observed. The stand-ins'
 * endpoints, TABLE_NAME and QUEUE_URL come in the environment, as the jest worker has them.
 */
resolveLocalhostSubdomains();
let running: ReturnType<typeof startDelivery> | undefined;

process.on('message', (message: { type: 'start'; config: DeliveryConfig } | { type: 'stop' }) => {
  if (message.type === 'start') {
    running = startDelivery(message.config);
    process.send!({ type: 'started' });
  } else {
    void running!.stop().then((result) => process.send!({ type: 'result', result }, () => process.exit(0)));
  }
});
process.on('disconnect', () => process.exit(0));
