//! `GET /api/v1/results?from=&to=&by=`: live results (see [`crate::results`])
//! in the JSON shape `canvas results` prints from. A bad date or `by` is a
//! 400 naming the parameter and what it takes.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;

use super::{blocking, ApiError, ApiResult};
use crate::app::KindsWanted;
use crate::member_base::KeptKinds;
use crate::results::{Results, ResultsQuery};
use crate::serve::Canvas;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ResultsParams {
    from: Option<String>,
    to: Option<String>,
    by: Option<String>,
}

pub(super) async fn results(State(canvas): State<Arc<Canvas>>, Query(params): Query<ResultsParams>) -> ApiResult {
    let missing = |name| ApiError::new(StatusCode::BAD_REQUEST, format!("`{name}` is required: a date YYYY-MM-DD"));
    let from = params.from.ok_or_else(|| missing("from"))?;
    let to = params.to.ok_or_else(|| missing("to"))?;
    let query = ResultsQuery::parse(&from, &to, params.by.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let results = blocking(&canvas, move |c| Ok(c.results(&query)?)).await?;
    Ok(Json(results).into_response())
}

impl Canvas {
    /// The results over the member base the last run left warm when it is
    /// current (no ingest since), else over one read from the store now.
    pub(crate) fn results(&self, query: &ResultsQuery) -> anyhow::Result<Results> {
        let config = &self.app.config;
        let generation = self.data_generation.load(Ordering::SeqCst);
        let warm = self.warm.peek(|state| {
            let (built_from, state) = state?;
            (*built_from == generation)
                .then(|| Results::of_store(&state.base, &self.store, query, &config.report, &config.results))
        });
        match warm {
            Some(results) => results,
            None => {
                let base = self.app.stored_member_base(&self.store, KindsWanted::AtLeast(&KeptKinds::host()))?;
                Results::of_store(&base, &self.store, query, &config.report, &config.results)
            }
        }
    }
}
