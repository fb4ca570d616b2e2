//! How many decoded pixels may be in memory at once, across every thread of the process.
//!
//! Why: the app renders photo thumbnails on four protocol threads. The per-image limit
//! (200 MP) lets a few-hundred-KB 14 000 × 14 000 PNG through — 800 MB decoded, more
//! while it is turned upright — and four such files at once could get the window killed.
//! Each decode first takes its picture's pixels from this budget and gives them back when
//! done; a decode that needs more than the whole budget waits until it can run alone.
//! JPEGs, decoded already shrunk, take only their shrunk size.

use std::sync::{Condvar, Mutex};

/// Decoded pixels in flight at most: 100 megapixels (about 400 MB as RGBA, with the
/// upright copy); one bigger picture runs alone.
pub const PIXELS_IN_FLIGHT: u64 = 100_000_000;

/// A shared allowance of decoded pixels.
pub(crate) struct PixelBudget {
    capacity: u64,
    state: Mutex<BudgetState>,
    freed: Condvar,
}

#[derive(Default)]
struct BudgetState {
    in_use: u64,
    /// The most ever in use at once (for tests).
    peak: u64,
}

/// Pixels taken from a [`PixelBudget`], given back when dropped.
pub(crate) struct Lease<'a> {
    budget: &'a PixelBudget,
    pixels: u64,
}

impl PixelBudget {
    pub(crate) const fn new(capacity: u64) -> PixelBudget {
        PixelBudget { capacity, state: Mutex::new(BudgetState { in_use: 0, peak: 0 }), freed: Condvar::new() }
    }

    /// Waits until `pixels` fit (a request over the whole capacity waits for an empty
    /// budget and then takes all of it), and takes them.
    pub(crate) fn take(&self, pixels: u64) -> Lease<'_> {
        let pixels = pixels.clamp(1, self.capacity);
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while state.in_use + pixels > self.capacity {
            state = self.freed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        state.in_use += pixels;
        state.peak = state.peak.max(state.in_use);
        Lease { budget: self, pixels }
    }

    #[cfg(test)]
    pub(crate) fn peak(&self) -> u64 {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).peak
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let mut state = self.budget.state.lock().unwrap_or_else(|p| p.into_inner());
        state.in_use -= self.pixels;
        drop(state);
        self.budget.freed.notify_all();
    }
}

/// The process's budget, shared by every thumbnail.
pub(crate) static DECODES: PixelBudget = PixelBudget::new(PIXELS_IN_FLIGHT);

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn pixels_in_flight_never_exceed_the_budget_and_a_huge_picture_runs_alone() {
        let budget = PixelBudget::new(100);
        let in_flight = AtomicU64::new(0);
        let worst = AtomicU64::new(0);
        std::thread::scope(|scope| {
            for k in 0..12u64 {
                let (budget, in_flight, worst) = (&budget, &in_flight, &worst);
                scope.spawn(move || {
                    // Sizes 30, 60, 90 and one of 400 (over the whole budget).
                    let want = if k == 5 { 400 } else { 30 * (k % 3 + 1) };
                    let _lease = budget.take(want);
                    let now = in_flight.fetch_add(want.min(100), Ordering::SeqCst) + want.min(100);
                    worst.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(15));
                    in_flight.fetch_sub(want.min(100), Ordering::SeqCst);
                });
            }
        });
        assert!(worst.load(Ordering::SeqCst) <= 100, "in flight: {}", worst.load(Ordering::SeqCst));
        assert!(budget.peak() <= 100 && budget.peak() >= 90, "peak {}", budget.peak());
    }
}
