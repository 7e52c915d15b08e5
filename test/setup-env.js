process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_REGION = process.env.AWS_REGION || 'us-east-1';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = process.env.POWERTOOLS_LOG_LEVEL || 'SILENT';
// Delivery reads a bucket's quiet hours on every job in tests (the Lambda caches them 30 s).
process.env.QUIET_SETTINGS_CACHE_SECONDS = process.env.QUIET_SETTINGS_CACHE_SECONDS || '0';
