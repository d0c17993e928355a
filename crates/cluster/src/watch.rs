//! One way to follow several watches at once (no polling): each watch's
//! events, tagged with the watch they came from and its objects turned
//! into the caller's type, merged into one stream, with an optional tick;
//! and whether every watch has done its first list. Waits that judge what
//! they saw (a pull secret's rollout through the Machine Config Operator,
//! HyperShift's merge and syncer, `fix`'s pods) fold the steps into their
//! own state and decide; a watch that breaks is resumed by kube's watcher
//! (it lists again), and an error before the first list is the answer.

use std::time::Duration;

use futures::StreamExt as _;
use futures::stream::BoxStream;
use kube::api::Api;
use kube::runtime::{WatchStreamExt as _, watcher};

use crate::error::ClusterError;

/// What one watch said, its object made into the caller's `T`.
#[derive(Debug)]
pub enum Step<T> {
    /// Added or changed (in a list, or live).
    Applied(T),
    Deleted(T),
    /// The watch lists again (first, or after it broke): what it had
    /// seen may be gone.
    Relisting,
    /// Its list is whole.
    Listed,
    Failed(ClusterError),
    /// Time passed (with [`Watches::tick`]).
    Tick,
}

/// Several watches, merged.
pub struct Watches<'a, T> {
    streams: Vec<BoxStream<'a, (usize, Step<T>)>>,
    listed: Vec<bool>,
}

impl<T> std::fmt::Debug for Watches<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watches")
            .field("listed", &self.listed)
            .finish_non_exhaustive()
    }
}

impl<'a, T: Send + 'a> Default for Watches<'a, T> {
    fn default() -> Self {
        Self {
            streams: Vec::new(),
            listed: Vec::new(),
        }
    }
}

impl<'a, T: Send + 'a> Watches<'a, T> {
    /// Adds a watch of `api` (in `namespace`, for its errors' words), its
    /// objects made into `T` by `into`; returns its index (what
    /// [`Following::next`] tags its steps with).
    pub fn watch<K>(
        &mut self,
        api: Api<K>,
        namespace: &str,
        config: watcher::Config,
        into: impl Fn(K) -> T + Send + 'a,
    ) -> usize
    where
        K: kube::Resource
            + k8s_openapi::Resource
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug
            + Send
            + 'static,
        K::DynamicType: Default + Eq + std::hash::Hash + Clone,
    {
        let index = self.streams.len();
        let namespace = namespace.to_string();
        let stream = watcher(api, config).default_backoff().map(move |e| {
            let step = match e {
                Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => {
                    Step::Applied(into(o))
                }
                Ok(watcher::Event::Delete(o)) => Step::Deleted(into(o)),
                Ok(watcher::Event::Init) => Step::Relisting,
                Ok(watcher::Event::InitDone) => Step::Listed,
                Err(e) => Step::Failed(ClusterError::from_watch::<K>(e, &namespace)),
            };
            (index, step)
        });
        self.streams.push(stream.boxed());
        self.listed.push(false);
        index
    }

    /// A [`Step::Tick`] every `every`, tagged with no watch's index.
    pub fn tick(&mut self, every: Duration) {
        let index = usize::MAX;
        let ticks = futures::stream::unfold((), move |()| async move {
            tokio::time::sleep(every).await;
            Some(((index, Step::Tick), ()))
        });
        self.streams.push(ticks.boxed());
    }

    /// Merged, to follow.
    pub fn follow(self) -> Following<'a, T> {
        Following {
            merged: futures::stream::select_all(self.streams),
            listed: self.listed,
        }
    }
}

/// The merged watches as they go.
pub struct Following<'a, T> {
    merged: futures::stream::SelectAll<BoxStream<'a, (usize, Step<T>)>>,
    listed: Vec<bool>,
}

impl<T> std::fmt::Debug for Following<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Following")
            .field("listed", &self.listed)
            .finish_non_exhaustive()
    }
}

impl<T> Following<'_, T> {
    /// The next step and the watch it came from. An error before every
    /// watch has listed once ends it with that error (forbidden, say);
    /// after, the watcher starts over by itself and the error is skipped.
    pub async fn next(&mut self) -> Option<Result<(usize, Step<T>), ClusterError>> {
        loop {
            let (index, step) = self.merged.next().await?;
            match step {
                Step::Listed => {
                    if let Some(l) = self.listed.get_mut(index) {
                        *l = true;
                    }
                }
                Step::Failed(e) if !self.all_listed() => return Some(Err(e)),
                Step::Failed(_) => continue,
                _ => {}
            }
            return Some(Ok((index, step)));
        }
    }

    /// Every watch has done its first list: what was seen is whole.
    pub fn all_listed(&self) -> bool {
        self.listed.iter().all(|l| *l)
    }
}
