//! `Builder::tokio_compat` (feature `tokio-compat`): whether a runtime's threads
//! enter the tokio bridge (`crate::compat`). A file of its own so the builder's
//! main file stays feature-free.

use crate::runtime::builder::Builder;

impl Builder {
    /// Whether this runtime's threads (workers, `block_in_place` replacements,
    /// blocking-pool threads) and its `block_on` callers make the tokio bridge's
    /// handle current, so libraries that call tokio's runtime work from its tasks.
    /// On by default with the feature `tokio-compat`; `false` leaves tokio's
    /// context alone (such libraries then panic with tokio's "no reactor running"
    /// message, as without the feature) and starts no tokio thread for this runtime.
    ///
    /// # Examples
    /// ```
    /// let rt = ticktock_executor::Builder::new_current_thread()
    ///     .tokio_compat(false)
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     assert!(tokio::runtime::Handle::try_current().is_err());
    /// });
    /// let rt = ticktock_executor::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    /// });
    /// ```
    pub fn tokio_compat(&mut self, enabled: bool) -> &mut Builder {
        self.config.tokio_compat = enabled;
        self
    }
}
