//! The month's book in this process, under a mutex.

use std::sync::{Mutex, MutexGuard, PoisonError};

use conferbot_policy::quota::QuotaBook;

/// The book.
#[derive(Debug, Default)]
pub(crate) struct LocalQuota {
    book: Mutex<QuotaBook>,
}

impl LocalQuota {
    /// A copy of the book.
    pub(crate) fn book(&self) -> QuotaBook {
        self.lock().clone()
    }

    /// What `read` makes of the book, under the lock (no copy).
    pub(crate) fn read<R>(&self, read: impl FnOnce(&QuotaBook) -> R) -> R {
        read(&self.lock())
    }

    /// Changes the book.
    pub(crate) fn update(&self, change: impl FnOnce(&mut QuotaBook)) {
        change(&mut self.lock());
    }

    /// The book. It never panics, so a poisoned lock still holds a
    /// consistent book.
    fn lock(&self) -> MutexGuard<'_, QuotaBook> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
