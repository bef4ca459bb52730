// `for await` over every item of a list. Which page to fetch next, and when
// to stop, is decided in Rust (the paginator behind `hasNextPage()` and
// `getNextPage()`); this only walks the pages one at a time and frees each
// one once it is done with it, so memory stays flat however long the list.

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
