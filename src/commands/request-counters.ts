import { COUNTER_REQUEST } from '../core/protocol/counter-request.js';
import { requestCommand } from './host-requests.js';

/** `rds request-counters`: a counter-request to each selected agent; with --wait, their readings taken in. */
export const run = requestCommand('request-counters', COUNTER_REQUEST, 'counters');
