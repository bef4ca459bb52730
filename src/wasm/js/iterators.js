// The JS side of pages and of the `for await` protocols: only JS can define
// `Symbol.asyncIterator`, and a page's fields are cheaper to read as plain
// properties. Which page comes next, and how live events are read, parsed and
// reconnected, is decided in Rust; this only walks.
// (One file for all of it: wasm-bindgen-test-runner's headless page hangs now
// and then when it loads one snippet module more.)

/** One page of a list; `cursor` (Rust) knows whether and how to fetch the next. */
class Page {
  #cursor;

  constructor(cursor, data, total, page, totalPages) {
    this.data = data;
    this.total = total ?? null;
    this.page = page;
    this.totalPages = totalPages ?? null;
    this.#cursor = cursor;
  }

  hasNextPage() {
    return this.#cursor.hasNext();
  }

  getNextPage() {
    return pagePromise(this.#cursor.next());
  }

  /** This page, then every later one, fetched as the loop asks for them. */
  async *iterPages() {
    let page = this;
    for (;;) {
      yield page;
      if (!page.hasNextPage()) return;
      page = await page.getNextPage();
    }
  }

  /**
   * Every item of this page and of every later one. The pages fetched on the
   * way are freed once walked, so memory stays flat however long the list.
   */
  async *[Symbol.asyncIterator]() {
    let page = this;
    try {
      for (;;) {
        yield* page.data;
        if (!page.hasNextPage()) return;
        const next = await page.getNextPage();
        if (page !== this) page.free();
        page = next;
      }
    } finally {
      if (page !== this) page.free();
    }
  }

  /** Releases the page's wasm memory now instead of at garbage collection. */
  free() {
    this.#cursor?.free();
    this.#cursor = null;
  }
}

export const newPage = (cursor, data, total, page, totalPages) => new Page(cursor, data, total, page, totalPages);

// A list call's promise, which is also async-iterable over every item of the
// list (like openai-node's PagePromise): await it for the first page, or
// `for await` it for the items.
export function pagePromise(promise) {
  promise[Symbol.asyncIterator] = itemsOfFirstPage;
  return promise;
}

// One function for every such promise (`this` is the promise), so that a
// call makes no closure for a loop it may never run.
async function* itemsOfFirstPage() {
  yield* await this;
}

// Every item of a list, lazily: nothing is sent until a loop starts, and each
// loop starts from the first page anew.
export function pageItems(firstPage) {
  return {
    [Symbol.asyncIterator]() {
      return pagePromise(firstPage.fetch())[Symbol.asyncIterator]();
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
  // Rust plans each step: an event, `undefined` (closed), or I/O to await.
  const nextEvent = async () => {
    for (;;) {
      const step = stream.plan();
      if (!(step instanceof Promise)) return step;
      let fulfilled = true;
      let value;
      try {
        value = await step;
      } catch (reason) {
        fulfilled = false;
        value = reason;
      }
      if (!open) return undefined;
      stream.settle(fulfilled, value);
    }
  };
  const step = async () => {
    if (!open) return { done: true, value: undefined };
    try {
      const value = await nextEvent();
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
