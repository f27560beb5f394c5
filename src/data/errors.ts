/** Errors about data files: corrupt, truncated, missing or of the wrong kind. */
import { ReceptiveError } from '../util/errors.js';

export class DataError extends ReceptiveError {}

/** The data is not on this machine and could not be downloaded: the message says what to place where. */
export class DataNotFoundError extends DataError {}
