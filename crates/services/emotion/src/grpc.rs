//! gRPC adapter for `qts.emotion.v1.EmotionService`.

use std::sync::Arc;

use common::error::{ApiError, Kind};
use common::server::ServiceInfo;
use proto::common::v1 as common_pb;
use proto::emotion::v1 as pb;
use proto::emotion::v1::emotion_service_server::{EmotionService, EmotionServiceServer};
use text::Lang;
use tonic::{Request, Response, Status};

use crate::domain::Incoming;
use crate::service::{Emotion, point_pb, sentiment_pb};
use crate::store::Filter;

struct Api {
    info: Arc<ServiceInfo>,
    emotion: Emotion,
}

/// The tonic server for this service.
pub(crate) fn server(
    info: Arc<ServiceInfo>,
    emotion: Emotion,
) -> EmotionServiceServer<impl EmotionService> {
    EmotionServiceServer::new(Api { info, emotion })
}

fn status(e: impl Into<ApiError>) -> Status {
    e.into().into()
}

fn invalid(message: String) -> Status {
    status(ApiError::new(Kind::InvalidArgument, message))
}

fn lang_of(s: &str) -> Result<Option<Lang>, Status> {
    match s.trim() {
        "" => Ok(None),
        "vi" => Ok(Some(Lang::Vi)),
        "en" => Ok(Some(Lang::En)),
        other => Err(invalid(format!(
            "lang {other:?}: vi, en, or empty to detect"
        ))),
    }
}

#[tonic::async_trait]
impl EmotionService for Api {
    async fn get_info(
        &self,
        _request: Request<common_pb::GetInfoRequest>,
    ) -> Result<Response<common_pb::ServiceInfo>, Status> {
        Ok(Response::new(self.info.to_proto()))
    }

    async fn score_text(
        &self,
        request: Request<pb::ScoreTextRequest>,
    ) -> Result<Response<pb::Sentiment>, Status> {
        let r = request.into_inner();
        let score = self
            .emotion
            .score(&r.text, lang_of(&r.lang)?)
            .map_err(status)?;
        Ok(Response::new(sentiment_pb(&score)))
    }

    async fn list_items(
        &self,
        request: Request<pb::ListItemsRequest>,
    ) -> Result<Response<pb::ListItemsResponse>, Status> {
        let r = request.into_inner();
        let some = |s: String| (!s.is_empty()).then_some(s);
        let items = self
            .emotion
            .items(Filter {
                symbol: some(r.symbol),
                lang: some(r.lang),
                label: some(r.label),
                before: r.before.as_ref().and_then(common::bus::time_of),
                since: None,
                duplicates: r.include_duplicates,
                limit: r.limit,
            })
            .await
            .map_err(status)?;
        Ok(Response::new(pb::ListItemsResponse {
            items: items
                .into_iter()
                .map(|s| pb::ScoredItem {
                    item: Some(s.item),
                    sentiment: Some(s.sentiment),
                })
                .collect(),
        }))
    }

    async fn get_sentiment(
        &self,
        request: Request<pb::GetSentimentRequest>,
    ) -> Result<Response<pb::SentimentPoint>, Status> {
        let r = request.into_inner();
        let p = self.emotion.sentiment(&r.subject).await.map_err(status)?;
        Ok(Response::new(point_pb(&p, self.emotion.half_life_hours())))
    }

    async fn submit_items(
        &self,
        request: Request<pb::SubmitItemsRequest>,
    ) -> Result<Response<pb::SubmitItemsResponse>, Status> {
        let r = request.into_inner();
        let max = self.emotion.settings().max_submit_items;
        if r.items.len() > max {
            return Err(invalid(format!("items: at most {max} per request")));
        }
        let items = r
            .items
            .into_iter()
            .map(|i| {
                Ok(Incoming {
                    guid: i.id,
                    title: i.title,
                    body: i.text,
                    url: i.url,
                    published: i.published.as_ref().and_then(common::bus::time_of),
                    lang: lang_of(&i.lang)?,
                    author: i.author,
                    tagged: Vec::new(),
                })
            })
            .collect::<Result<Vec<_>, Status>>()?;
        let outcomes = self
            .emotion
            .ingest(&r.source, items)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::SubmitItemsResponse {
            outcomes: outcomes
                .into_iter()
                .map(|o| pb::SubmitOutcome {
                    guid: o.guid,
                    status: o.status.as_str().to_owned(),
                    item_id: o.item_id,
                    detail: o.detail,
                })
                .collect(),
        }))
    }
}
