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
    #[should_panic(expected = "paging does not end")]
    async fn all_pages_calls_endless_paging_endless() {
        all_pages(|_| async { (vec![()], Some("again".to_owned())) }).await;
    }
}
