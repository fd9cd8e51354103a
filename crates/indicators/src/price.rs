//! Price transforms: AVGPRICE, MEDPRICE, TYPPRICE, WCLPRICE (lookback 0).

use serde::{Deserialize, Serialize};

use crate::{Error, Group, Input, Params, Spec, Streaming};

macro_rules! price_fn {
    ($ty:ident, $name:literal, $desc:literal, [$($input:ident),*], |$i:ident| $body:expr) => {
        #[doc = concat!($name, ": ", $desc, ".")]
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        pub struct $ty;

        impl Streaming for $ty {
            const SPEC: &'static Spec = &Spec {
                name: $name,
                group: Group::Price,
                description: $desc,
                inputs: &[$(Input::$input),*],
                params: &[],
                outputs: &["real"],
            };

            fn from_params(_: &Params) -> Result<Self, Error> {
                Ok($ty)
            }

            fn lookback(&self) -> usize {
                0
            }

            #[inline]
            fn update(&mut self, $i: &[f64], out: &mut [f64]) {
                out[0] = $body;
            }
        }
    };
}

price_fn!(
    AvgPrice,
    "AVGPRICE",
    "Average Price, (O + H + L + C) / 4",
    [Open, High, Low, Close],
    |i| (i[1] + i[2] + i[3] + i[0]) / 4.0
);
price_fn!(
    MedPrice,
    "MEDPRICE",
    "Median Price, (H + L) / 2",
    [High, Low],
    |i| (i[0] + i[1]) / 2.0
);
price_fn!(
    TypPrice,
    "TYPPRICE",
    "Typical Price, (H + L + C) / 3",
    [High, Low, Close],
    |i| (i[0] + i[1] + i[2]) / 3.0
);
price_fn!(
    WclPrice,
    "WCLPRICE",
    "Weighted Close Price, (H + L + 2C) / 4",
    [High, Low, Close],
    |i| (i[0] + i[1] + (i[2] * 2.0)) / 4.0
);
