//! FC Data REST items (`data[]` of each endpoint), PascalCase on the wire, string-typed
//! numbers parsed into exact types.

use serde::Deserialize;
use time::{Date, Time};

use crate::codes::{Exchange, SecurityType, TradingSession};
use crate::decimal::Decimal;

/// `Securities`: one listed security.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Security {
    /// Exchange.
    #[serde(default, with = "crate::wire::serde_opt_code")]
    pub market: Option<Exchange>,
    /// Ticker.
    #[serde(with = "crate::wire::serde_string")]
    pub symbol: String,
    /// Vietnamese name.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub stock_name: Option<String>,
    /// English name.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub stock_en_name: Option<String>,
}

/// `SecuritiesDetails`: one report holding reference data for many securities.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecuritiesDetails {
    /// Record type (`"y"`).
    #[serde(default, rename = "RType", with = "crate::wire::serde_opt_string")]
    pub r_type: Option<String>,
    /// Report date.
    #[serde(default, with = "crate::wire::serde_opt_date")]
    pub report_date: Option<Date>,
    /// Number of securities in the report.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub total_no_sym: Option<i64>,
    /// The securities.
    #[serde(default)]
    pub repeated_info: Vec<SecurityDetail>,
}

/// Reference data of one security (`RepeatedInfo[]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityDetail {
    /// ISIN.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub isin: Option<String>,
    /// Ticker.
    #[serde(with = "crate::wire::serde_string")]
    pub symbol: String,
    /// Vietnamese name.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub symbol_name: Option<String>,
    /// English name.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub symbol_eng_name: Option<String>,
    /// Security type.
    #[serde(default, with = "crate::wire::serde_opt_code")]
    pub sec_type: Option<SecurityType>,
    /// Market id.
    #[serde(default, with = "crate::wire::serde_opt_code")]
    pub market_id: Option<Exchange>,
    /// Exchange.
    #[serde(default, with = "crate::wire::serde_opt_code")]
    pub exchange: Option<Exchange>,
    /// Issuer.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub issuer: Option<String>,
    /// Board lot.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub lot_size: Option<i64>,
    /// Issue date.
    #[serde(default, with = "crate::wire::serde_opt_date")]
    pub issue_date: Option<Date>,
    /// Maturity date (bonds, warrants, futures).
    #[serde(default, with = "crate::wire::serde_opt_date")]
    pub maturity_date: Option<Date>,
    /// First trading date.
    #[serde(default, with = "crate::wire::serde_opt_date")]
    pub first_trading_date: Option<Date>,
    /// Last trading date.
    #[serde(default, with = "crate::wire::serde_opt_date")]
    pub last_trading_date: Option<Date>,
    /// Contract multiplier (derivatives).
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub contract_multiplier: Option<Decimal>,
    /// Settlement method: `C` cash, `P` physical.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub settl_method: Option<String>,
    /// Underlying (warrants, futures).
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub underlying: Option<String>,
    /// `P` put / `C` call.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub put_or_call: Option<String>,
    /// Exercise price.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub exercise_price: Option<Decimal>,
    /// `E` European / `A` American.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub exercise_style: Option<String>,
    /// Exercise ratio as sent (wire key `ExcerciseRatio`, sic).
    #[serde(
        default,
        rename = "ExcerciseRatio",
        alias = "ExerciseRatio",
        with = "crate::wire::serde_opt_string"
    )]
    pub exercise_ratio: Option<String>,
    /// Listed shares.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub listed_share: Option<i64>,
    /// Start of tick band 1.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub tick_price1: Option<Decimal>,
    /// Step of tick band 1.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub tick_increment1: Option<Decimal>,
    /// Start of tick band 2.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub tick_price2: Option<Decimal>,
    /// Step of tick band 2.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub tick_increment2: Option<Decimal>,
    /// Start of tick band 3.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub tick_price3: Option<Decimal>,
    /// Step of tick band 3.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub tick_increment3: Option<Decimal>,
    /// Start of tick band 4.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub tick_price4: Option<Decimal>,
    /// Step of tick band 4.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub tick_increment4: Option<Decimal>,
}

/// One band of a tick table: prices from `from` upwards move in steps of `step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TickBand {
    /// Lowest price of the band.
    pub from: Decimal,
    /// Price step inside the band.
    pub step: Decimal,
}

impl SecurityDetail {
    /// The tick table, bands with both start and step present, in ascending order.
    pub fn tick_bands(&self) -> Vec<TickBand> {
        let mut bands: Vec<TickBand> = [
            (self.tick_price1, self.tick_increment1),
            (self.tick_price2, self.tick_increment2),
            (self.tick_price3, self.tick_increment3),
            (self.tick_price4, self.tick_increment4),
        ]
        .into_iter()
        .filter_map(|(from, step)| match (from, step) {
            (Some(from), Some(step)) if !step.is_zero() => Some(TickBand { from, step }),
            _ => None,
        })
        .collect();
        bands.sort_by_key(|b| b.from);
        bands
    }
}

/// `IndexComponents`: an index and its constituents.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IndexComponents {
    /// Index code, e.g. `VN30`.
    #[serde(with = "crate::wire::serde_string")]
    pub index_code: String,
    /// Index name.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub index_name: Option<String>,
    /// Exchange.
    #[serde(default, with = "crate::wire::serde_opt_code")]
    pub exchange: Option<Exchange>,
    /// Number of constituents.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub total_symbol_no: Option<i64>,
    /// Constituents.
    #[serde(default)]
    pub index_component: Vec<IndexComponent>,
}

/// One constituent of an index.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IndexComponent {
    /// ISIN.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub isin: Option<String>,
    /// Ticker.
    #[serde(with = "crate::wire::serde_string")]
    pub stock_symbol: String,
}

/// `IndexList`: one index of an exchange.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IndexInfo {
    /// Index code.
    #[serde(with = "crate::wire::serde_string")]
    pub index_code: String,
    /// Index name.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub index_name: Option<String>,
    /// Exchange.
    #[serde(default, with = "crate::wire::serde_opt_code")]
    pub exchange: Option<Exchange>,
}

/// `DailyOhlc`: one daily bar.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DailyOhlc {
    /// Stock, index or derivative.
    #[serde(with = "crate::wire::serde_string")]
    pub symbol: String,
    /// Exchange.
    #[serde(default, with = "crate::wire::serde_opt_code")]
    pub market: Option<Exchange>,
    /// Trading date.
    #[serde(with = "crate::wire::serde_date")]
    pub trading_date: Date,
    /// Time (SSI sends null).
    #[serde(default, with = "crate::wire::serde_opt_time")]
    pub time: Option<Time>,
    /// Open.
    #[serde(with = "crate::wire::serde_decimal")]
    pub open: Decimal,
    /// High.
    #[serde(with = "crate::wire::serde_decimal")]
    pub high: Decimal,
    /// Low.
    #[serde(with = "crate::wire::serde_decimal")]
    pub low: Decimal,
    /// Close.
    #[serde(with = "crate::wire::serde_decimal")]
    pub close: Decimal,
    /// Normal matched volume.
    #[serde(with = "crate::wire::serde_int")]
    pub volume: i64,
    /// Normal matched value.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub value: Option<Decimal>,
}

/// `IntradayOhlc`: one intraday bar.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IntradayOhlc {
    /// Symbol.
    #[serde(with = "crate::wire::serde_string")]
    pub symbol: String,
    /// Trading date.
    #[serde(with = "crate::wire::serde_date")]
    pub trading_date: Date,
    /// Bar time (`HH:mm:ss`).
    #[serde(default, with = "crate::wire::serde_opt_time")]
    pub time: Option<Time>,
    /// Open.
    #[serde(with = "crate::wire::serde_decimal")]
    pub open: Decimal,
    /// High.
    #[serde(with = "crate::wire::serde_decimal")]
    pub high: Decimal,
    /// Low.
    #[serde(with = "crate::wire::serde_decimal")]
    pub low: Decimal,
    /// Close.
    #[serde(with = "crate::wire::serde_decimal")]
    pub close: Decimal,
    /// Volume.
    #[serde(with = "crate::wire::serde_int")]
    pub volume: i64,
    /// `Value` as sent: in every SSI sample a price-like figure, not turnover.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub value: Option<Decimal>,
}

/// `DailyIndex`: one day of index statistics.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DailyIndex {
    /// Index id.
    #[serde(with = "crate::wire::serde_string")]
    pub index_id: String,
    /// Index value.
    #[serde(with = "crate::wire::serde_decimal")]
    pub index_value: Decimal,
    /// Trading date.
    #[serde(with = "crate::wire::serde_date")]
    pub trading_date: Date,
    /// Time.
    #[serde(default, with = "crate::wire::serde_opt_time")]
    pub time: Option<Time>,
    /// Change in points.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub change: Option<Decimal>,
    /// Change in percent.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub ratio_change: Option<Decimal>,
    /// Number of trades.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub total_trade: Option<i64>,
    /// Matched volume.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub total_match_vol: Option<i64>,
    /// Matched value.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub total_match_val: Option<Decimal>,
    /// Index type.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub type_index: Option<String>,
    /// Index name.
    #[serde(default, with = "crate::wire::serde_opt_string")]
    pub index_name: Option<String>,
    /// Advancing constituents.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub advances: Option<i64>,
    /// Unchanged constituents.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub no_changes: Option<i64>,
    /// Declining constituents.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub declines: Option<i64>,
    /// Constituents at ceiling.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub ceilings: Option<i64>,
    /// Constituents at floor.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub floors: Option<i64>,
    /// Put-through volume.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub total_deal_vol: Option<i64>,
    /// Put-through value.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub total_deal_val: Option<Decimal>,
    /// Normal plus put-through volume.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub total_vol: Option<i64>,
    /// Normal plus put-through value.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub total_val: Option<Decimal>,
    /// Session.
    #[serde(default, with = "crate::wire::serde_opt_code")]
    pub trading_session: Option<TradingSession>,
}

/// `DailyStockPrice`: one day of price, volume and foreign-flow statistics.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DailyStockPrice {
    /// Trading date.
    #[serde(with = "crate::wire::serde_date")]
    pub trading_date: Date,
    /// Symbol.
    #[serde(with = "crate::wire::serde_string")]
    pub symbol: String,
    /// Time.
    #[serde(default, with = "crate::wire::serde_opt_time")]
    pub time: Option<Time>,
    /// Change from the reference price.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub price_change: Option<Decimal>,
    /// Change in percent.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub per_price_change: Option<Decimal>,
    /// Ceiling price.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub ceiling_price: Option<Decimal>,
    /// Floor price.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub floor_price: Option<Decimal>,
    /// Reference price.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub ref_price: Option<Decimal>,
    /// Open.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub open_price: Option<Decimal>,
    /// High.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub highest_price: Option<Decimal>,
    /// Low.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub lowest_price: Option<Decimal>,
    /// Close.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub close_price: Option<Decimal>,
    /// Average price.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub average_price: Option<Decimal>,
    /// Adjusted close.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub close_price_adjusted: Option<Decimal>,
    /// Matched volume.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub total_match_vol: Option<i64>,
    /// Matched value.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub total_match_val: Option<Decimal>,
    /// Put-through value.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub total_deal_val: Option<Decimal>,
    /// Put-through volume.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub total_deal_vol: Option<i64>,
    /// Foreign buy volume.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub foreign_buy_vol_total: Option<i64>,
    /// Foreign room left.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub foreign_current_room: Option<i64>,
    /// Foreign sell volume.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub foreign_sell_vol_total: Option<i64>,
    /// Foreign buy value.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub foreign_buy_val_total: Option<Decimal>,
    /// Foreign sell value.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub foreign_sell_val_total: Option<Decimal>,
    /// Number of buy trades.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub total_buy_trade: Option<i64>,
    /// Buy trade volume.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub total_buy_trade_vol: Option<i64>,
    /// Number of sell trades.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub total_sell_trade: Option<i64>,
    /// Sell trade volume.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub total_sell_trade_vol: Option<i64>,
    /// Foreign net volume.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub net_buy_sell_vol: Option<i64>,
    /// Foreign net value.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub net_buy_sell_val: Option<Decimal>,
    /// All volume, including put-through and odd lot.
    #[serde(default, with = "crate::wire::serde_opt_int")]
    pub total_traded_vol: Option<i64>,
    /// All value, including put-through and odd lot.
    #[serde(default, with = "crate::wire::serde_opt_decimal")]
    pub total_traded_value: Option<Decimal>,
}
