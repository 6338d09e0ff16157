//! Paged reads: every page of a List or Describe call, from the first to the last.

use std::future::Future;

/// How many pages a paged read follows before it calls the paging endless.
pub const MAX_PAGES: usize = 1000;

/// The pages one paged read answered, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pages<T> {
    /// Each page's items, in the order they came.
    pub pages: Vec<Vec<T>>,
}

impl<T> Pages<T> {
    /// How many items each page held.
    pub fn sizes(&self) -> Vec<usize> {
        self.pages.iter().map(Vec::len).collect()
    }

    /// Every item of every page, in order.
    pub fn items(self) -> Vec<T> {
        self.pages.into_iter().flatten().collect()
    }
}

/// Every page of a paged call: `fetch(token)` asks for one page (the first with `None`, then
/// with the token the page before answered) and answers its items and the next page's token.
///
/// Guarantees: the read ends with the first page that answers no token (`None`; a service that
/// spells the last page's token as empty says so in `fetch`); `fetch` is never called after it.
///
/// # Panics
/// When the pages have not ended after [`MAX_PAGES`] pages ("paging does not end"), and when
/// `fetch` panics.
pub async fn all_pages<T, F, Fut>(mut fetch: F) -> Pages<T>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = (Vec<T>, Option<String>)>,
{
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let (items, next) = fetch(token).await;
        pages.push(items);
        token = next;
        if token.is_none() {
            return Pages { pages };
        }
        assert!(pages.len() < MAX_PAGES, "paging does not end");
    }
}

/// Every page of a paged SDK call: `send(token)` sends the call for one page, `read(page)`
/// answers its items and the next page's token; as [`all_pages`].
///
/// # Panics
/// When a call fails (the panic names `what` and the error), and as [`all_pages`] does.
pub async fn sent_pages<T, P, E, F, Fut>(
    what: &str,
    mut send: F,
    read: impl Fn(P) -> (Vec<T>, Option<String>),
) -> Pages<T>
where
    E: std::fmt::Debug,
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<P, E>>,
{
    let read = &read;
    all_pages(|token| {
        let page = send(token);
        async move { read(page.await.unwrap_or_else(|e| panic!("{what}: {e:?}"))) }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn all_pages_follows_tokens_until_a_page_answers_none() {
        let read = all_pages(|token| async move {
            match token.as_deref() {
                None => (vec![1, 2], Some("a".to_owned())),
                Some("a") => (vec![3, 4], Some("b".to_owned())),
                Some("b") => (vec![5], None),
                other => panic!("unexpected token {other:?}"),
            }
        })
        .await;
        assert_eq!(read.sizes(), vec![2, 2, 1]);
        assert_eq!(read.items(), vec![1, 2, 3, 4, 5]);
    }

    #[tokio::test]
    async fn sent_pages_reads_each_sent_page() {
        let read = sent_pages(
            "count",
            |token| async move {
                match token.as_deref() {
                    None => Ok::<_, ()>((vec![1, 2], Some("a".to_owned()))),
                    _ => Ok((vec![3], None)),
                }
            },
            |page| page,
        )
        .await;
        assert_eq!(read.sizes(), vec![2, 1]);
    }

    #[tokio::test]
    #[should_panic(expected = "count: \"refused\"")]
    async fn sent_pages_names_a_failed_call() {
        sent_pages::<(), (), _, _, _>("count", |_| async { Err("refused") }, |()| (vec![], None))
            .await;
    }

    #[tokio::test]
    #[should_panic(expected = "paging does not end")]
    async fn all_pages_calls_endless_paging_endless() {
        all_pages(|_| async { (vec![()], Some("again".to_owned())) }).await;
    }
}
