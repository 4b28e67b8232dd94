import { VERSION_REQUEST } from '../core/protocol/version-request.js';
import { requestCommand } from './host-requests.js';

/** `rds request-versions`: a version-request to each selected agent; with --wait, their reports taken in. */
export const run = requestCommand('request-versions', VERSION_REQUEST, 'versions');
