import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * The handlers' logger and metrics. Service name and namespace come from POWERTOOLS_SERVICE_NAME and
 * POWERTOOLS_METRICS_NAMESPACE (set by the stack). Nothing logged here may carry a token, magic code,
 * signature secret or device token: handlers log routes, statuses, counts and error names only.
 */
export const logger = new Logger({ serviceName: 'herald' });
export const metrics = new Metrics({ serviceName: 'herald', namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Herald' });
