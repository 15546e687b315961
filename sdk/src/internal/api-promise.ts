// What every call returns: a promise of the response body that can also give the raw response.

/** The body of a response with the response itself and its request id. */
export interface WithResponse<T> {
  data: T;
  /** The raw response (status, headers); its body has already been read. */
  response: Response;
  /** The server's `x-request-id`: quote it when reporting a problem. */
  requestId: string | undefined;
}

/** A promise of the body; `.withResponse()` resolves to the body, the raw response and the request id. */
export class ApiPromise<T> extends Promise<T> {
  readonly #result: Promise<WithResponse<T>>;

  constructor(result: Promise<WithResponse<T>>) {
    let resolveBody!: (value: T) => void;
    let rejectBody!: (reason: unknown) => void;
    super((resolve, reject) => {
      resolveBody = resolve;
      rejectBody = reject;
    });
    this.#result = result;
    result.then((value) => resolveBody(value.data), rejectBody);
    // A caller who only asks for withResponse() handles the failure there: not an unhandled rejection.
    this.then(undefined, () => undefined);
  }

  // Derived promises (then, catch, finally) are plain promises, not ApiPromises.
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  withResponse(): Promise<WithResponse<T>> {
    return this.#result;
  }
}
