//! Put-through (negotiated) deals: block trades agreed off the order book and reported on
//! the put-through board. A few a day for liquid names, rarely for thin ones, with a volume
//! that makes their value a share of the matched value, at prices near the reference.
//! Every deal is checked by `market::validate_order` as an LO order on
//! [`Board::PutThrough`] in that board's session at its second: the board's hours, the band
//! (where it applies) and the exchange's minimum deal size are `market`'s verdicts; what
//! `market` refuses is not generated.

use market::session::TimeOfDay;
use market::tick::Rounding;
use market::{
    Board, InstrumentKind, InvestorProfile, OrderContext, Price, Security, SecurityStatus, Side,
    Symbol,
};

use super::factors::{gauss, poisson};
use super::odd_lot::Checker;
use super::{Error, Generator};
use crate::rng::Rng;
use crate::universe::Liquidity;

/// Keeps the put-through draws apart from the instrument's other streams.
const STREAM: u64 = 5;
/// Seconds tried for a deal before it is given up (outside the board's hours).
const TRIES: usize = 8;
/// Put-through deals are reported between 09:00 and 15:00 at most (`market` narrows it).
const WINDOW: (u32, u32) = (9 * 3600, 15 * 3600);

/// One put-through deal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PutThroughDeal {
    /// Seconds since local midnight.
    pub secs: u32,
    /// Price in units (VND).
    pub price: i64,
    /// Shares.
    pub volume: u64,
}

impl Generator {
    /// The put-through deals of instrument `i` on day `day`, in time order (none for
    /// futures): a Poisson number of deals at the class's rate (`put_through` in the
    /// model), each of `value_share` × the instrument's typical matched volume / that rate
    /// (× log-normal noise, at least `market`'s minimum deal), at the reference ×
    /// e^(`price_sd` · N(0, 1)) rounded to the put-through board's tick. A pure function
    /// of the seed, the instrument and the day.
    pub fn put_throughs(&self, i: usize, day: usize) -> Result<Vec<PutThroughDeal>, Error> {
        let inst = self
            .universe
            .instrument(i)
            .ok_or(Error::UnknownInstrument(i))?;
        let date = self.date(day)?;
        let model = &self.model.put_through;
        let rate = match inst.liquidity {
            Liquidity::Liquid => model.deals_per_day[0],
            Liquidity::Mid => model.deals_per_day[1],
            Liquidity::Illiquid => model.deals_per_day[2],
        };
        if inst.kind == InstrumentKind::IndexFuture || rate <= 0.0 {
            return Ok(Vec::new());
        }
        let mut rng = Rng::new(self.seed, i as u64, day as u64, STREAM);
        let deals = poisson(&mut rng, rate);
        let (Ok(symbol), true) = (Symbol::parse(&inst.symbol), deals > 0) else {
            return Ok(Vec::new());
        };
        let limits = self.limits(i, day)?;
        let checker = Checker {
            security: Security {
                symbol,
                exchange: inst.exchange,
                kind: inst.kind,
                status: SecurityStatus::Normal,
                limits: Some(limits),
                awaiting_first_match: false,
            },
            ctx: OrderContext::exchange_only(&self.rules, InvestorProfile::DOMESTIC_INDIVIDUAL),
            board: Board::PutThrough,
        };
        let key = self.rules.session_key(
            inst.exchange,
            inst.kind,
            SecurityStatus::Normal,
            Board::PutThrough,
        );
        let lot = self.rules.lots.round_lot(inst.exchange).max(1);
        let minimum = self
            .rules
            .lots
            .put_through_min(inst.exchange, inst.kind)
            .unwrap_or(lot);
        // E[e^(0.9 N)] of the trade-size draw, ≈ e^0.405.
        let typical_volume = inst.trade_rate * inst.trade_lots * 1.5 * lot as f64;
        let reference = limits.reference.units() as f64;
        let mut out = Vec::with_capacity(deals as usize);
        for _ in 0..deals {
            let size = model.value_share * typical_volume / rate * (0.7 * gauss(&mut rng)).exp();
            let volume = ((size / lot as f64).round() as u64 * lot).max(minimum);
            let raw = (reference * (model.price_sd * gauss(&mut rng)).exp()).round();
            let price = Price::new(raw.max(1.0) as i64)
                .ok()
                .and_then(|p| {
                    self.rules.round_to_tick(
                        inst.exchange,
                        inst.kind,
                        Board::PutThrough,
                        p,
                        Rounding::Nearest,
                    )
                })
                .map_or(limits.reference.units(), Price::units)
                .clamp(limits.floor.units(), limits.ceiling.units());
            for _ in 0..TRIES {
                let secs = u32::try_from(rng.range(u64::from(WINDOW.0), u64::from(WINDOW.1 - 1)))
                    .unwrap_or(WINDOW.0);
                let session = self
                    .calendar
                    .session_at(date, TimeOfDay::from_seconds(secs), &key);
                if checker.accepts(&session, Side::Buy, price, volume) {
                    out.push(PutThroughDeal {
                        secs,
                        price,
                        volume,
                    });
                    break;
                }
            }
        }
        out.sort_by_key(|d| d.secs);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use market::{Exchange, MarketRules};

    use super::super::tests::generator;
    use super::*;

    #[test]
    fn deals_are_valid_put_throughs_in_the_boards_hours() {
        let g = generator(13);
        let rules = MarketRules::default();
        let mut deals = 0;
        for (i, inst) in g.universe().instruments().iter().enumerate() {
            for day in 0..g.days().len() {
                let list = g.put_throughs(i, day).unwrap();
                if inst.kind == InstrumentKind::IndexFuture {
                    assert!(list.is_empty());
                }
                let limits = g.limits(i, day).unwrap();
                for d in &list {
                    deals += 1;
                    assert!(limits.contains(Price::new(d.price).unwrap()), "{d:?}");
                    if let Some(min) = rules.lots.put_through_min(inst.exchange, inst.kind) {
                        assert!(d.volume >= min, "{} {d:?}", inst.symbol);
                    }
                    // Never during the lunch break.
                    assert!(!(41_400..46_800).contains(&d.secs), "{d:?}");
                    if inst.exchange == Exchange::Hose {
                        assert!(d.volume >= 20_000);
                    }
                }
                assert!(list.windows(2).all(|w| w[0].secs <= w[1].secs));
            }
        }
        assert!(deals > 50, "{deals} deals");
        assert_eq!(
            g.put_throughs(3, 10).unwrap(),
            generator(13).put_throughs(3, 10).unwrap()
        );
    }

    #[test]
    fn liquid_names_deal_about_their_share_of_the_matched_value() {
        let g = generator(14);
        let (mut deal_value, mut matched_value) = (0.0, 0.0);
        for (i, inst) in g.universe().instruments().iter().enumerate() {
            if inst.liquidity != Liquidity::Liquid || inst.kind != InstrumentKind::Stock {
                continue;
            }
            for day in 0..g.days().len() {
                for d in g.put_throughs(i, day).unwrap() {
                    deal_value += d.price as f64 * d.volume as f64;
                }
                matched_value += g.summary(i, day).unwrap().value_units as f64;
            }
        }
        let share = deal_value / matched_value;
        let want = g.model().put_through.value_share;
        assert!(
            (want / 3.0..want * 3.0).contains(&share),
            "put-through / matched value {share}, model {want}"
        );
    }
}
