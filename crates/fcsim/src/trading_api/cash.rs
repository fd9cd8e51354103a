//! The SDK 2.5 endpoints (§5.7): `/api/v2/cash/...`, `/api/v2/stock/...` and
//! `/api/v2/ors/...`, over the simulated accounts. POSTs are signed and carry `code` like
//! orders; every account named (`account`, `beneficiaryAccount`) must be the caller's.

use std::sync::Arc;

use axum::http::HeaderMap;
use axum::response::Response;
use matching::AccountId;
use serde_json::{Map, Value, json};
use time::Date;

use super::orders::checked_body;
use super::{Refused, business, field, number, required, text};
use crate::auth::TokenInfo;
use crate::broker::cash::{CashAdvance, CashTransfer, StockTransfer};
use crate::broker::{Command, Outcome};
use crate::rest::{ApiError, Params, ok};
use crate::sim::Core;

fn owned(core: &Core, info: &TokenInfo, account: &str) -> Result<AccountId, ApiError> {
    if core.owns(&info.consumer, account) {
        Ok(AccountId::new(account))
    } else {
        Err(business("Account is not exist."))
    }
}

fn date(p: &Params, key: &str, label: &str) -> Result<Date, ApiError> {
    let text = p
        .get(key)
        .ok_or_else(|| ApiError::bad(format!("'{label}' must not be empty.")))?;
    fastconnect::wire::parse_date(text)
        .ok_or_else(|| ApiError::bad(format!("'{label}' is not a date (dd/MM/yyyy)")))
}

/// A whole, positive VND amount (`key` may be absent when `optional`).
fn vnd(m: &Map<String, Value>, key: &str, label: &str, optional: bool) -> Result<i64, ApiError> {
    if optional && field(m, key).is_none() {
        return Ok(0);
    }
    let v = number(m, key)?;
    if !(v.fract() == 0.0 && (0.0..1e15).contains(&v)) || (!optional && v <= 0.0) {
        return Err(ApiError::bad(format!(
            "'{label}' must be a whole number of VND greater than 0"
        )));
    }
    #[allow(clippy::cast_possible_truncation)]
    Ok(v as i64)
}

fn amount_param(p: &Params, key: &str) -> Result<i64, ApiError> {
    match p.get(key).map(str::parse::<f64>) {
        None => Ok(0),
        Some(Ok(v)) if v.is_finite() && v.fract() == 0.0 && (0.0..1e15).contains(&v) =>
        {
            #[allow(clippy::cast_possible_truncation)]
            Ok(v as i64)
        }
        Some(_) => Err(ApiError::bad(format!(
            "'{key}' must be a whole number of VND not below 0"
        ))),
    }
}

pub(super) async fn get(
    core: &Arc<Core>,
    info: &TokenInfo,
    group: &str,
    api: &str,
    p: &Params,
) -> Result<Response, Refused> {
    let known = matches!(
        (group, api),
        (
            "cash",
            "cashinadvanceamount"
                | "unsettlesoldtransaction"
                | "transferhistories"
                | "cashinadvancehistories"
                | "estcashinadvancefee"
        ) | ("stock", "transferable" | "transferhistories")
            | ("ors", "dividend" | "exercisablequantity" | "histories")
    );
    if !known {
        return Err(ApiError::not_found(api).into());
    }
    let account = p
        .get("account")
        .ok_or_else(|| ApiError::bad("'Account' must not be empty."))?
        .to_owned();
    let id = owned(core, info, &account)?;
    let (today, _) = core.local_now();
    let data = match (group, api) {
        ("cash", "cashinadvanceamount") => read(core, move |b| Ok(b.cia_amounts(&id))).await?,
        ("cash", "unsettlesoldtransaction") => {
            let settle = match p.get("settledate") {
                None => None,
                Some(_) => Some(date(p, "settledate", "Settle Date")?),
            };
            read(core, move |b| Ok(b.unsettled_sales(&id, settle))).await?
        }
        ("cash", "transferhistories") => {
            let (from, to) = (
                date(p, "fromdate", "From Date")?,
                date(p, "todate", "To Date")?,
            );
            read(core, move |b| Ok(b.transfer_history(&id, from, to, false))).await?
        }
        ("cash", "cashinadvancehistories") => {
            let (from, to) = (
                date(p, "startdate", "Start Date")?,
                date(p, "enddate", "End Date")?,
            );
            read(core, move |b| Ok(b.cia_history(&id, from, to))).await?
        }
        ("cash", _) => {
            let c = CashAdvance {
                account: account.clone(),
                amount: amount_param(p, "ciaamount")?,
                receive: amount_param(p, "receiveamount")?,
            };
            read(core, move |b| b.cia_fee(today, &c).map_err(ApiError::from)).await?
        }
        ("stock", "transferable") => read(core, move |b| Ok(b.transferable_stocks(&id))).await?,
        ("stock", _) => {
            let (from, to) = (
                date(p, "startdate", "Start Date")?,
                date(p, "enddate", "End Date")?,
            );
            read(core, move |b| Ok(b.transfer_history(&id, from, to, true))).await?
        }
        // The generated market has no corporate actions: no dividends, no rights.
        ("ors", "dividend") => json!({"account": account, "dividends": []}),
        ("ors", "exercisablequantity") => json!({"account": account, "exercisableQuantities": []}),
        (_, _) => {
            let _ = (
                date(p, "startdate", "Start Date")?,
                date(p, "enddate", "End Date")?,
            );
            json!({"account": account, "onlineRightSubscriptionHistories": []})
        }
    };
    Ok(ok(data))
}

async fn read(
    core: &Core,
    f: impl FnOnce(&crate::broker::Broker) -> Result<Value, ApiError> + Send + 'static,
) -> Result<Value, ApiError> {
    core.desk.read(f).await.map_err(ApiError::from)?
}

pub(super) async fn post(
    core: &Arc<Core>,
    info: &TokenInfo,
    group: &str,
    api: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Refused> {
    let known = matches!(
        (group, api),
        (
            "cash",
            "vsdcashdw" | "transferinternal" | "createcashinadvance"
        ) | ("stock", "transfer")
            | ("ors", "create")
    );
    if !known {
        return Err(ApiError::not_found(api).into());
    }
    let m = checked_body(core, info, headers, body)?;
    let account = required(&m, "account", "Account")?;
    owned(core, info, &account)?;
    let beneficiary = |m: &Map<String, Value>| -> Result<String, ApiError> {
        let b = required(m, "beneficiaryAccount", "Beneficiary Account")?;
        owned(core, info, &b).map_err(|_| business("Beneficiary account is not exist."))?;
        Ok(b)
    };
    let cmd = match (group, api) {
        ("cash", "transferinternal") => Command::CashTransfer(CashTransfer {
            beneficiary: beneficiary(&m)?,
            amount: vnd(&m, "amount", "Amount", false)?,
            remark: text(&m, "remark").unwrap_or_default(),
            account: account.clone(),
        }),
        ("cash", "createcashinadvance") => {
            let amount = vnd(&m, "ciaAmount", "CIA Amount", true)?;
            let receive = vnd(&m, "receiveAmount", "Receive Amount", true)?;
            if amount == 0 && receive == 0 {
                return Err(ApiError::bad(
                    "'CIA Amount' or 'Receive Amount' must be greater than 0",
                )
                .into());
            }
            Command::CashAdvance(CashAdvance {
                account: account.clone(),
                amount,
                receive,
            })
        }
        ("stock", "transfer") => {
            let symbol = required(&m, "instrumentID", "Instrument ID")?.to_ascii_uppercase();
            if core.generator.universe().find(&symbol).is_none() {
                return Err(business(format!("Symbol {symbol} does not exist")).into());
            }
            let q = number(&m, "quantity")?;
            if !(q >= 1.0 && q.fract() == 0.0 && q < 1e12) {
                return Err(
                    ApiError::bad("'Quantity' must be a whole number greater than 0.").into(),
                );
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let quantity = q as u64;
            Command::StockTransfer(StockTransfer {
                beneficiary: beneficiary(&m)?,
                account: account.clone(),
                symbol,
                quantity,
            })
        }
        ("cash", _) => {
            return Err(business(
                "vsdCashDW is not simulated: a simulated derivatives account keeps its margin in one cash balance",
            )
            .into());
        }
        (_, _) => {
            let entitlement = text(&m, "entitlementID").unwrap_or_default();
            return Err(business(format!(
                "Entitlement '{entitlement}' does not exist: the simulated market has no rights issues"
            ))
            .into());
        }
    };
    let outcome = core.desk.apply(cmd).await.map_err(ApiError::from)?;
    let Outcome::Transaction(tx) = outcome else {
        return Err(ApiError::internal("no transaction id").into());
    };
    Ok(ok(match api {
        "transferinternal" => json!({"transactionID": tx}),
        _ => json!({"account": account, "transactionID": tx}),
    }))
}
