// The `for await` protocols of the package: only JS can define
// `Symbol.asyncIterator`. Which page comes next, and how live events are read,
// parsed and reconnected, is decided in Rust; this only walks.
// (One file for both: wasm-bindgen-test-runner's headless page hangs now and
// then when it loads one snippet module more.)

// Every item of a list: follows `hasNextPage()` / `getNextPage()` one page at
// a time, and frees each page once done with it, so memory stays flat however
// long the list.
export function pageItems(firstPage) {
  return {
    async *[Symbol.asyncIterator]() {
      let page = await firstPage.fetch();
      try {
        for (;;) {
          yield* page.data;
          if (!page.hasNextPage()) return;
          const next = await page.getNextPage();
          page.free();
          page = next;
        }
      } finally {
        page.free();
      }
    },
  };
}

// Live events from a Rust event stream. Steps run one at a time; `return()`
// (a `break` out of the loop) closes the stream at once, also while a step
// waits, and frees it.
export function eventItems(stream) {
  let open = true;
  let queue = Promise.resolve();
  const finish = (value) => {
    if (open) {
      open = false;
      stream.close();
      stream.free();
    }
    return { done: true, value };
  };
  const step = async () => {
    if (!open) return { done: true, value: undefined };
    try {
      const value = await stream.next();
      return value === undefined ? finish() : { done: false, value };
    } catch (error) {
      finish();
      throw error;
    }
  };
  return {
    next() {
      const result = queue.then(step);
      queue = result.catch(() => {});
      return result;
    },
    async return(value) {
      return finish(value);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

// The body of a streaming answer, chunk by chunk: a Uint8Array, or null at its end.
export const bodyReader = (response) => response.body?.getReader() ?? null;
export const readChunk = (reader) => reader.read().then(({ done, value }) => (done ? null : value));
