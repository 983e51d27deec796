/** One problem with one input field. */
export interface FieldError {
  /** Dotted path of the field, e.g. `address.zip` or `body.filter.$gt`. */
  field: string;
  /** What is wrong with it, one sentence each. */
  errors: string[];
}

/** The JSON body of every error response (health probes excepted, which keep terminus' shape). */
export interface ErrorResponse {
  /** The HTTP status code, repeated from the status line. */
  statusCode: number;
  /** The status' reason phrase, e.g. `Bad Request`. */
  error: string;
  /** What went wrong, for people. Never internals: a 500 says only `Internal server error`. */
  message: string;
  /** Field-level problems, when the input was at fault. */
  details?: FieldError[];
  /** On a 503: the dependency that is down or too slow, named as its readiness check. */
  dependency?: string;
  /** The request's id, as in the `x-request-id` header and the request's logs. */
  requestId?: string;
}
