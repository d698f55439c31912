//! `SendWrapper<T>`: a value that may be moved across threads but used
//! only on the thread that made it, with the API of crates.io's
//! `send_wrapper` 0.6, which Leptos wraps every DOM value in.
//!
//! Why our own: on `wasm32` without the `atomics` feature there is one
//! thread, so the check can never fail, yet the original asks
//! `std::thread::current()` on every access, which brings std's thread
//! handles (~5 KB of wasm) into a player that has no threads. Here that
//! target skips the check; every other target keeps it (the backend's
//! native builds and tests), panicking as the original does.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};

#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
mod owner {
    /// The only thread there is.
    #[derive(Clone, Copy)]
    pub struct Owner;
    impl Owner {
        pub fn current() -> Self {
            Owner
        }
        pub fn is_current(self) -> bool {
            true
        }
    }
}

#[cfg(not(all(target_family = "wasm", not(target_feature = "atomics"))))]
mod owner {
    use std::thread::{self, ThreadId};
    #[derive(Clone, Copy)]
    pub struct Owner(ThreadId);
    impl Owner {
        pub fn current() -> Self {
            Owner(thread::current().id())
        }
        pub fn is_current(self) -> bool {
            thread::current().id() == self.0
        }
    }
}

use owner::Owner;

pub struct SendWrapper<T> {
    data: ManuallyDrop<T>,
    owner: Owner,
}

impl<T> SendWrapper<T> {
    /// Wraps `data`, owned by the calling thread.
    pub fn new(data: T) -> SendWrapper<T> {
        SendWrapper {
            data: ManuallyDrop::new(data),
            owner: Owner::current(),
        }
    }

    /// Whether the calling thread may use the value.
    pub fn valid(&self) -> bool {
        self.owner.is_current()
    }

    /// The value back. Panics on another thread.
    pub fn take(self) -> T {
        self.check("take");
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again.
        unsafe { ManuallyDrop::take(&mut this.data) }
    }

    fn check(&self, what: &str) {
        if !self.valid() {
            invalid(what)
        }
    }
}

#[cold]
#[inline(never)]
fn invalid(what: &str) -> ! {
    panic!("SendWrapper: {what} from a thread other than the one that made it")
}

// SAFETY: the value is reached only on its own thread (checked above on
// targets with threads; wasm32 without atomics has only one).
unsafe impl<T> Send for SendWrapper<T> {}
unsafe impl<T> Sync for SendWrapper<T> {}

impl<T> Deref for SendWrapper<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.check("deref");
        &self.data
    }
}

impl<T> DerefMut for SendWrapper<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.check("deref_mut");
        &mut self.data
    }
}

impl<T> Drop for SendWrapper<T> {
    fn drop(&mut self) {
        // A value that needs no drop may go anywhere; else only at home.
        if !std::mem::needs_drop::<T>() || self.valid() {
            // SAFETY: dropped once, here.
            unsafe { ManuallyDrop::drop(&mut self.data) }
        } else if !std::thread::panicking() {
            invalid("drop")
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for SendWrapper<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendWrapper")
            .field("data", self.deref())
            .finish()
    }
}

impl<T: Clone> Clone for SendWrapper<T> {
    fn clone(&self) -> Self {
        SendWrapper::new(self.deref().clone())
    }
}

#[cfg(feature = "futures")]
mod futures {
    use super::SendWrapper;
    use futures_core::Stream;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    impl<F: Future> Future for SendWrapper<F> {
        type Output = F::Output;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            // SAFETY: the inner future is never moved out of a pinned wrapper.
            unsafe { self.map_unchecked_mut(|w| &mut **w) }.poll(cx)
        }
    }

    impl<S: Stream> Stream for SendWrapper<S> {
        type Item = S::Item;
        fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
            // SAFETY: as above.
            unsafe { self.map_unchecked_mut(|w| &mut **w) }.poll_next(cx)
        }
        fn size_hint(&self) -> (usize, Option<usize>) {
            (**self).size_hint()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SendWrapper;
    use std::rc::Rc;
    use std::thread;

    #[test]
    fn at_home_it_is_the_value() {
        let w = SendWrapper::new(Rc::new(5));
        assert!(w.valid());
        assert_eq!(**w, 5);
        let c = w.clone();
        assert_eq!(*c.take(), 5);
    }

    #[test]
    fn elsewhere_it_refuses() {
        let w = SendWrapper::new(Rc::new(5));
        let r = thread::spawn(move || {
            assert!(!w.valid());
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| **w));
            // Sent home to be dropped there.
            (caught.is_err(), w)
        })
        .join()
        .unwrap();
        assert!(r.0);
        assert_eq!(**r.1, 5);
    }
}
