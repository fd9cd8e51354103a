//! FC Trading request and response types. Wire keys are camelCase with SSI's own spelling
//! (`instrumentID`, `requestID`, `marketID`); amounts arrive as JSON numbers and become
//! [`Decimal`] or `i64`, never `f64`.

use secrecy::SecretString;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::codes::{OrderStatus, OrderType, Side, StopType, TradingMarket};
use crate::decimal::Decimal;
use crate::error::{Error, Result};

/// The client's id of one order action: digits only, at most 8, unique per day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(u32);

impl RequestId {
    /// Largest id SSI accepts.
    pub const MAX: u32 = 99_999_999;

    /// An id, if it has at most 8 digits.
    pub fn new(id: u32) -> Result<Self> {
        if id > Self::MAX {
            return Err(Error::InvalidRequest(format!(
                "requestID {id} has more than 8 digits"
            )));
        }
        Ok(Self(id))
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Conditional-order fields (derivatives only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopOrder {
    /// `stopType`.
    pub stop_type: StopType,
    /// `stopPrice` (> 0).
    pub stop_price: Decimal,
    /// `stopStep` (≥ 0).
    pub stop_step: Decimal,
    /// `lossStep` (> 0 for bull-bear).
    pub loss_step: Decimal,
    /// `profitStep` (> 0 for bull-bear).
    pub profit_step: Decimal,
}

/// A new order. Cash-market (`VN`) orders go to `NewOrder`, derivatives (`VNFE`) to
/// `derNewOrder`.
#[derive(Debug, Clone)]
pub struct NewOrder {
    /// Sub-account (ends in 1 for cash, 8 for derivatives by SSI's convention).
    pub account: String,
    /// Symbol.
    pub instrument_id: String,
    /// `VN` or `VNFE`.
    pub market: TradingMarket,
    /// Buy or sell.
    pub side: Side,
    /// Order type.
    pub order_type: OrderType,
    /// Limit price; must be 0 for every type but `LO`.
    pub price: Decimal,
    /// Shares or contracts.
    pub quantity: u64,
    /// Conditional-order fields, derivatives only.
    pub stop: Option<StopOrder>,
    /// Own id; the client assigns one when `None`.
    pub request_id: Option<RequestId>,
    /// PIN/OTP, needed only with a token from an unverified (`isSave=false`) login.
    pub code: Option<SecretString>,
}

impl NewOrder {
    /// A limit order.
    pub fn limit(
        account: impl Into<String>,
        instrument_id: impl Into<String>,
        market: TradingMarket,
        side: Side,
        price: Decimal,
        quantity: u64,
    ) -> Self {
        Self {
            account: account.into(),
            instrument_id: instrument_id.into(),
            market,
            side,
            order_type: OrderType::Lo,
            price,
            quantity,
            stop: None,
            request_id: None,
            code: None,
        }
    }
}

/// A change of price and/or quantity (`ModifyOrder` / `derModifyOrder`).
#[derive(Debug, Clone)]
pub struct ModifyOrder {
    /// Sub-account.
    pub account: String,
    /// Symbol.
    pub instrument_id: String,
    /// `VN` or `VNFE` (sent as `marketID`).
    pub market: TradingMarket,
    /// Side of the original order.
    pub side: Side,
    /// Type of the original order.
    pub order_type: OrderType,
    /// SSI's order id (from the stream or the order book).
    pub order_id: String,
    /// New (or unchanged) price.
    pub price: Decimal,
    /// New (or unchanged) quantity.
    pub quantity: u64,
    /// Own id of this action; assigned when `None`.
    pub request_id: Option<RequestId>,
    /// PIN/OTP for unverified tokens.
    pub code: Option<SecretString>,
}

/// A cancellation (`CancelOrder` / `derCancelOrder`).
#[derive(Debug, Clone)]
pub struct CancelOrder {
    /// Sub-account.
    pub account: String,
    /// Symbol.
    pub instrument_id: String,
    /// `VN` or `VNFE` (sent as `marketID`).
    pub market: TradingMarket,
    /// Side of the original order.
    pub side: Side,
    /// SSI's order id.
    pub order_id: String,
    /// Own id of this action; assigned when `None`.
    pub request_id: Option<RequestId>,
    /// PIN/OTP for unverified tokens.
    pub code: Option<SecretString>,
}

/// SSI accepted an order action for processing. The outcome (order id, acceptance,
/// rejection, fills) arrives on the trading stream, correlated by `request_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderAck {
    /// The `requestID` sent.
    pub request_id: RequestId,
    /// SSI's echo of the request (`requestData`), as sent back.
    pub request_data: serde_json::Value,
}

/// One order of `orderHistory`, `orderBook` or `auditOrderBook`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderItem {
    /// `uniqueID`: the requestID of the action (may be null in history).
    #[serde(default, rename = "uniqueID", with = "crate::wire::serde_opt_string")]
    pub unique_id: Option<String>,
    /// `orderID`: SSI's opaque order id.
    #[serde(rename = "orderID", with = "crate::wire::serde_string")]
    pub order_id: String,
    /// Side.
    #[serde(rename = "buySell")]
    pub side: Side,
    /// Limit price.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub price: Option<Decimal>,
    /// Quantity.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub quantity: Option<i64>,
    /// Filled quantity.
    #[serde(default, rename = "filledQty", with = "crate::wire::serde_opt_int")]
    pub filled_qty: Option<i64>,
    /// Status.
    #[serde(default, rename = "orderStatus", with = "crate::wire::serde_opt_code")]
    pub order_status: Option<OrderStatus>,
    /// `VN` / `VNFE`.
    #[serde(default, rename = "marketID", with = "crate::wire::serde_opt_string")]
    pub market_id: Option<String>,
    /// Entry time.
    #[serde(
        default,
        rename = "inputTime",
        with = "crate::wire::serde_opt_epoch_ms"
    )]
    pub input_time: Option<OffsetDateTime>,
    /// Last modification time.
    #[serde(
        default,
        rename = "modifiedTime",
        with = "crate::wire::serde_opt_epoch_ms"
    )]
    pub modified_time: Option<OffsetDateTime>,
    /// Symbol.
    #[serde(rename = "instrumentID", with = "crate::wire::serde_string")]
    pub instrument_id: String,
    /// Order type.
    #[serde(default, rename = "orderType", with = "crate::wire::serde_opt_code")]
    pub order_type: Option<OrderType>,
    /// Cancelled quantity.
    #[serde(default, rename = "cancelQty", with = "crate::wire::serde_opt_int")]
    pub cancel_qty: Option<i64>,
    /// Average fill price.
    #[serde(default, rename = "avgPrice", with = "crate::wire::serde_opt_decimal")]
    pub avg_price: Option<Decimal>,
    /// Forced sell (`"T"`/`"F"`).
    #[serde(
        default,
        rename = "isForcesell",
        alias = "isForceSell",
        with = "crate::wire::serde_opt_bool"
    )]
    pub is_force_sell: Option<bool>,
    /// Short sell (`"T"`/`"F"`).
    #[serde(
        default,
        rename = "isShortsell",
        alias = "isShortSell",
        with = "crate::wire::serde_opt_bool"
    )]
    pub is_short_sell: Option<bool>,
    /// Rejection text (`"0"` when none in some samples).
    #[serde(
        default,
        rename = "rejectReason",
        with = "crate::wire::serde_opt_string"
    )]
    pub reject_reason: Option<String>,
    /// `auditOrderBook` only: the last error the stream reported for this order.
    #[serde(default, rename = "lastErrorEvent")]
    pub last_error_event: Option<Box<OrderItem>>,
}

/// `orderHistory`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderHistory {
    /// Account.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub account: Option<String>,
    /// Orders.
    #[serde(
        default,
        rename = "orderHistories",
        deserialize_with = "crate::wire::null_as_empty"
    )]
    pub orders: Vec<OrderItem>,
}

/// `orderBook` and `auditOrderBook`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderBook {
    /// Account.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub account: Option<String>,
    /// Orders.
    #[serde(default, deserialize_with = "crate::wire::null_as_empty")]
    pub orders: Vec<OrderItem>,
}

/// One holding of `stockPosition`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockPosition {
    /// Market.
    #[serde(default, rename = "marketID", with = "crate::wire::serde_opt_string")]
    pub market_id: Option<String>,
    /// Symbol.
    #[serde(rename = "instrumentID", with = "crate::wire::serde_string")]
    pub instrument_id: String,
    /// Shares on hand.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub on_hand: Option<i64>,
    /// Blocked.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub block: Option<i64>,
    /// Bonus shares.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub bonus: Option<i64>,
    /// Bought today.
    #[serde(default, rename = "buyT0", with = "crate::wire::serde_opt_int")]
    pub buy_t0: Option<i64>,
    /// Bought T-1.
    #[serde(default, rename = "buyT1", with = "crate::wire::serde_opt_int")]
    pub buy_t1: Option<i64>,
    /// Bought T-2.
    #[serde(default, rename = "buyT2", with = "crate::wire::serde_opt_int")]
    pub buy_t2: Option<i64>,
    /// Sold today.
    #[serde(default, rename = "sellT0", with = "crate::wire::serde_opt_int")]
    pub sell_t0: Option<i64>,
    /// Sold T-1.
    #[serde(default, rename = "sellT1", with = "crate::wire::serde_opt_int")]
    pub sell_t1: Option<i64>,
    /// Sold T-2.
    #[serde(default, rename = "sellT2", with = "crate::wire::serde_opt_int")]
    pub sell_t2: Option<i64>,
    /// Average cost.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub avg_price: Option<Decimal>,
    /// Mortgaged.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub mortgage: Option<i64>,
    /// Sellable now.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub sellable_qty: Option<i64>,
    /// Held for open orders.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub hold_for_trade: Option<i64>,
    /// Market price.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub market_price: Option<Decimal>,
}

/// `stockPosition`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockPositions {
    /// Account.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub account: Option<String>,
    /// Σ marketPrice × onHand.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub total_market_value: Option<Decimal>,
    /// Holdings.
    #[serde(default, deserialize_with = "crate::wire::null_as_empty")]
    pub stock_positions: Vec<StockPosition>,
}

/// One derivatives position (`derivPosition`, `clientPortfolioEvent`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DerivPosition {
    /// Market (the stream sample spells it `martketID`).
    #[serde(
        default,
        rename = "marketID",
        alias = "martketID",
        alias = "marketid",
        with = "crate::wire::serde_opt_string"
    )]
    pub market_id: Option<String>,
    /// Contract.
    #[serde(rename = "instrumentID", with = "crate::wire::serde_string")]
    pub instrument_id: String,
    /// Long contracts.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub long_qty: Option<i64>,
    /// Short contracts.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub short_qty: Option<i64>,
    /// Net.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub net: Option<i64>,
    /// Average long price.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub bid_avg_price: Option<Decimal>,
    /// Average short price.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub ask_avg_price: Option<Decimal>,
    /// Trade price.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub trade_price: Option<Decimal>,
    /// Market price.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub market_price: Option<Decimal>,
    /// Floating P&L.
    #[serde(
        default,
        rename = "floatingPL",
        with = "crate::wire::serde_opt_decimal"
    )]
    pub floating_pl: Option<Decimal>,
    /// Realised P&L.
    #[serde(default, rename = "tradingPL", with = "crate::wire::serde_opt_decimal")]
    pub trading_pl: Option<Decimal>,
}

/// `derivPosition`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DerivPositions {
    /// Account.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub account: Option<String>,
    /// Open positions.
    #[serde(default, deserialize_with = "crate::wire::null_as_empty")]
    pub open_position: Vec<DerivPosition>,
    /// Closed positions.
    #[serde(default, deserialize_with = "crate::wire::null_as_empty")]
    pub close_position: Vec<DerivPosition>,
}

/// `maxBuyQty`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MaxBuyQty {
    /// Account.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub account: Option<String>,
    /// Largest buyable quantity at the price asked.
    #[serde(with = "crate::wire::serde_int")]
    pub max_buy_qty: i64,
    /// Margin ratio as sent, e.g. `"50%"`.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub margin_ratio: Option<String>,
    /// Purchasing power.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub purchasing_power: Option<Decimal>,
}

/// `maxSellQty`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MaxSellQty {
    /// Account.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub account: Option<String>,
    /// Largest sellable quantity.
    #[serde(with = "crate::wire::serde_int")]
    pub max_sell_qty: i64,
}

/// `cashAcctBal`: cash account balance (VND).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CashAccountBalance {
    /// Account.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub account: Option<String>,
    /// Cash balance.
    #[serde(default, alias = "cashbal", with = "crate::wire::serde_opt_decimal")]
    pub cash_bal: Option<Decimal>,
    /// Cash on hold.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub cash_on_hold: Option<Decimal>,
    /// Secured amount.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub secure_amount: Option<Decimal>,
    /// Withdrawable.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub withdrawable: Option<Decimal>,
    /// Cash receivable T+1.
    #[serde(
        default,
        rename = "receivingCashT1",
        with = "crate::wire::serde_opt_decimal"
    )]
    pub receiving_cash_t1: Option<Decimal>,
    /// Cash receivable T+2.
    #[serde(
        default,
        rename = "receivingCashT2",
        with = "crate::wire::serde_opt_decimal"
    )]
    pub receiving_cash_t2: Option<Decimal>,
    /// Matched buy value.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub matched_buy_volume: Option<Decimal>,
    /// Matched sell value.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub matched_sell_volume: Option<Decimal>,
    /// Debt.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub debt: Option<Decimal>,
    /// Unmatched buy value.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub un_matched_buy_volume: Option<Decimal>,
    /// Unmatched sell value.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub un_matched_sell_volume: Option<Decimal>,
    /// Paid T+1.
    #[serde(
        default,
        rename = "paidCashT1",
        with = "crate::wire::serde_opt_decimal"
    )]
    pub paid_cash_t1: Option<Decimal>,
    /// Paid T+2.
    #[serde(
        default,
        rename = "paidCashT2",
        with = "crate::wire::serde_opt_decimal"
    )]
    pub paid_cash_t2: Option<Decimal>,
    /// Cash in advance.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub cia: Option<Decimal>,
    /// Purchasing power.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub purchasing_power: Option<Decimal>,
    /// Total assets.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub total_assets: Option<Decimal>,
}

/// Asset block of `derivAcctBal` (`internalAssets`, `exchangeAssets`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DerivAssets {
    /// Cash.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub cash: Option<Decimal>,
    /// Valid non-cash collateral.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub valid_non_cash: Option<Decimal>,
    /// Total.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub total_value: Option<Decimal>,
    /// Maximum valid non-cash collateral.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub max_valid_non_cash: Option<Decimal>,
    /// Withdrawable cash.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub cash_withdrawable: Option<Decimal>,
    /// Excess equity.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub ee: Option<Decimal>,
}

/// Margin block of `derivAcctBal` (`internalMargin`, `exchangeMargin`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DerivMargin {
    /// Initial margin (internal only).
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub initial_margin: Option<Decimal>,
    /// Delivery margin (internal only).
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub delivery_margin: Option<Decimal>,
    /// Margin requirement.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub margin_req: Option<Decimal>,
    /// Account ratio.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub account_ratio: Option<Decimal>,
    /// Warning level 1.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub used_limit_warning_level1: Option<Decimal>,
    /// Warning level 2.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub used_limit_warning_level2: Option<Decimal>,
    /// Warning level 3.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub used_limit_warning_level3: Option<Decimal>,
    /// Margin call amount.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub margin_call: Option<Decimal>,
}

/// `derivAcctBal`: derivatives account balance.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DerivAccountBalance {
    /// Account.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub account: Option<String>,
    /// Balance.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub account_balance: Option<Decimal>,
    /// Fees.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub fee: Option<Decimal>,
    /// Commission.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub commission: Option<Decimal>,
    /// Interest.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub interest: Option<Decimal>,
    /// Loan.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub loan: Option<Decimal>,
    /// Delivery amount.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub delivery_amount: Option<Decimal>,
    /// Floating P&L.
    #[serde(
        default,
        rename = "floatingPL",
        with = "crate::wire::serde_opt_decimal"
    )]
    pub floating_pl: Option<Decimal>,
    /// Total P&L.
    #[serde(default, rename = "totalPL", with = "crate::wire::serde_opt_decimal")]
    pub total_pl: Option<Decimal>,
    /// Marginable.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub marginable: Option<Decimal>,
    /// Depositable.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub depositable: Option<Decimal>,
    /// RC call.
    #[serde(default, rename = "rcCall", with = "crate::wire::serde_opt_decimal")]
    pub rc_call: Option<Decimal>,
    /// Withdrawable.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub withdrawable: Option<Decimal>,
    /// Non-cash drawable RC call.
    #[serde(
        default,
        rename = "nonCashDrawableRCCall",
        with = "crate::wire::serde_opt_decimal"
    )]
    pub non_cash_drawable_rc_call: Option<Decimal>,
    /// Assets at SSI.
    #[serde(default)]
    pub internal_assets: Option<DerivAssets>,
    /// Assets at the exchange.
    #[serde(default)]
    pub exchange_assets: Option<DerivAssets>,
    /// Margin at SSI.
    #[serde(default)]
    pub internal_margin: Option<DerivMargin>,
    /// Margin at the exchange.
    #[serde(default)]
    pub exchange_margin: Option<DerivMargin>,
}

/// `ppmmraccount`: purchasing power and margin. Amounts in VND.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PpmmrAccount {
    /// Collateral assets.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub collateral_asset: Option<Decimal>,
    /// Call LMV.
    #[serde(default, rename = "callLMW", with = "crate::wire::serde_opt_decimal")]
    pub call_lmw: Option<Decimal>,
    /// Liability.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub liability: Option<Decimal>,
    /// Original excess equity.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub ee_origin: Option<Decimal>,
    /// Force-sell LMV.
    #[serde(default, rename = "forceLMV", with = "crate::wire::serde_opt_decimal")]
    pub force_lmv: Option<Decimal>,
    /// Equity.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub equity: Option<Decimal>,
    /// Excess equity.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub ee: Option<Decimal>,
    /// Call margin.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub call_margin: Option<Decimal>,
    /// Cash balance.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub cash_balance: Option<Decimal>,
    /// Purchasing power.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub purchasing_power: Option<Decimal>,
    /// Force-sell call.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub call_forcesell: Option<Decimal>,
    /// Loanable market value.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub lmv: Option<Decimal>,
    /// Margin call.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub margin_call: Option<Decimal>,
    /// Withdrawal.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub withdrawal: Option<Decimal>,
    /// Collateral A.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub collateral_a: Option<Decimal>,
    /// Action as sent.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub action: Option<String>,
    /// Margin ratio.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub margin_ratio: Option<Decimal>,
    /// Debt.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub debt: Option<Decimal>,
    /// Accrued interest.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub accrued_interest: Option<Decimal>,
    /// Rights on hold.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub hold_right: Option<Decimal>,
    /// Pre-loan.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub pre_loan: Option<Decimal>,
    /// Fees.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub fees: Option<Decimal>,
    /// Unmatched buys.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub buy_unmatch: Option<Decimal>,
    /// Accounts payable.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub ap: Option<Decimal>,
    /// Accounts payable T+1.
    #[serde(default, rename = "apT1", with = "crate::wire::serde_opt_decimal")]
    pub ap_t1: Option<Decimal>,
    /// Unmatched sells.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub sell_unmatch: Option<Decimal>,
    /// Cash in advance.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub cia: Option<Decimal>,
    /// Accounts receivable.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub ar: Option<Decimal>,
    /// Accounts receivable T+1.
    #[serde(default, rename = "arT1", with = "crate::wire::serde_opt_decimal")]
    pub ar_t1: Option<Decimal>,
    /// Purchasing-power credit.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub pp_credit: Option<Decimal>,
    /// Credit limit.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub credit_limit: Option<Decimal>,
    /// Total assets.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub total_assets: Option<Decimal>,
    /// Margin-call LMV sold.
    #[serde(
        default,
        rename = "marginCallLMVSold",
        with = "crate::wire::serde_opt_decimal"
    )]
    pub margin_call_lmv_sold: Option<Decimal>,
    /// Non-marginable LMV.
    #[serde(
        default,
        rename = "lmvNonMarginable",
        with = "crate::wire::serde_opt_decimal"
    )]
    pub lmv_non_marginable: Option<Decimal>,
    /// Credit excess equity.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub ee_credit: Option<Decimal>,
    /// Total equity.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub total_equity: Option<Decimal>,
    /// Excess equity at 90 % margin.
    #[serde(default, rename = "eE90", with = "crate::wire::serde_opt_decimal")]
    pub ee90: Option<Decimal>,
    /// Excess equity at 80 % margin.
    #[serde(default, rename = "eE80", with = "crate::wire::serde_opt_decimal")]
    pub ee80: Option<Decimal>,
    /// Excess equity at 70 % margin.
    #[serde(default, rename = "eE70", with = "crate::wire::serde_opt_decimal")]
    pub ee70: Option<Decimal>,
    /// Excess equity at 60 % margin.
    #[serde(default, rename = "eE60", with = "crate::wire::serde_opt_decimal")]
    pub ee60: Option<Decimal>,
    /// Excess equity at 50 % margin.
    #[serde(default, rename = "eE50", with = "crate::wire::serde_opt_decimal")]
    pub ee50: Option<Decimal>,
}

/// One quota rule of `rateLimit`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RateLimitRule {
    /// `*`, `post:*`, `get:*` or `*:*/<api>`.
    #[serde(with = "crate::wire::serde_string")]
    pub endpoint: String,
    /// Window, e.g. `1s`, `5s`, `1m`.
    #[serde(with = "crate::wire::serde_string")]
    pub period: String,
    /// Requests allowed per window.
    #[serde(with = "crate::wire::serde_int")]
    pub limit: i64,
}

impl RateLimitRule {
    /// The window as milliseconds (`1s`, `5s`, `1m`, `1h`, `1d`), if readable.
    pub fn period_ms(&self) -> Option<u64> {
        let p = self.period.trim();
        let split = p.find(|c: char| !c.is_ascii_digit())?;
        let (n, unit) = p.split_at(split);
        let n: u64 = n.parse().ok()?;
        let unit_ms = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return None,
        };
        n.checked_mul(unit_ms)
    }
}
