//! The headline and article templates, each a Vietnamese and English pair telling the same
//! story. `{key}` placeholders are filled by `text::Vars` with numbers formatted for the
//! language (`27.500` / `27,500`); `news/tests.rs` renders every template and checks that
//! none is left unfilled.

use crate::universe::Sector;

/// One story in both languages.
#[derive(Debug, Clone, Copy)]
pub(super) struct Story {
    /// Sectors the story fits; empty: any company.
    pub(super) sectors: &'static [Sector],
    pub(super) vi_title: &'static str,
    pub(super) vi_body: &'static str,
    pub(super) en_title: &'static str,
    pub(super) en_body: &'static str,
}

const ANY: &[Sector] = &[];

/// Pre-open company events that explain a rise.
pub(super) const GOOD: &[Story] = &[
    Story {
        sectors: ANY,
        vi_title: "{co} báo lãi quý {q} tăng {growth}%, vượt kỳ vọng",
        vi_body: "{name} ({ticker}) công bố lợi nhuận sau thuế quý {q} đạt {profit} tỷ đồng, tăng {growth}% so với cùng kỳ năm trước và cao hơn dự báo của giới phân tích. Doanh thu đạt {revenue} tỷ đồng nhờ sản lượng tiêu thụ tăng và chi phí đầu vào giảm. Cổ phiếu {ticker} đóng cửa phiên trước ở mức {prev} đồng.",
        en_title: "{co} posts {growth}% rise in {q} profit, beating forecasts",
        en_body: "{name} ({ticker}) reported after-tax profit of VND {profit} billion for {q}, up {growth}% from a year earlier and ahead of analysts' forecasts. Revenue reached VND {revenue} billion on higher sales volumes and lower input costs. {ticker} closed at {prev} dong in the previous session.",
    },
    Story {
        sectors: ANY,
        vi_title: "{co} trúng thầu hợp đồng {contract} tỷ đồng",
        vi_body: "{name} ({ticker}) cho biết vừa trúng thầu một hợp đồng trị giá {contract} tỷ đồng, thực hiện trong {months} tháng. Giá trị hợp đồng tương đương khoảng {contract_share}% doanh thu năm trước của công ty. Ban lãnh đạo kỳ vọng hợp đồng sẽ đóng góp đáng kể vào lợi nhuận từ quý tới.",
        en_title: "{co} wins VND {contract} billion contract",
        en_body: "{name} ({ticker}) said it had won a contract worth VND {contract} billion, to be carried out over {months} months. The contract is equivalent to about {contract_share}% of the company's revenue last year. Management expects it to add significantly to profit from next quarter.",
    },
    Story {
        sectors: ANY,
        vi_title: "Nâng khuyến nghị {ticker} lên Mua, giá mục tiêu {target} đồng",
        vi_body: "Một công ty chứng khoán lớn vừa nâng khuyến nghị với cổ phiếu {ticker} của {name} từ Nắm giữ lên Mua, với giá mục tiêu {target} đồng, cao hơn {upside}% so với giá đóng cửa gần nhất {prev} đồng. Báo cáo dự báo lợi nhuận năm nay tăng {growth}% nhờ biên lợi nhuận phục hồi.",
        en_title: "Brokerage upgrades {ticker} to Buy with {target} dong target",
        en_body: "A major brokerage upgraded {name} ({ticker}) to Buy from Hold, with a target price of {target} dong, {upside}% above the last close of {prev} dong. The report forecasts profit growth of {growth}% this year as margins recover.",
    },
    Story {
        sectors: ANY,
        vi_title: "{co} nâng cổ tức tiền mặt lên {dividend} đồng/cổ phiếu",
        vi_body: "Hội đồng quản trị {name} ({ticker}) thông qua phương án nâng cổ tức tiền mặt năm nay lên {dividend} đồng/cổ phiếu, tương đương tỷ lệ {div_rate}% mệnh giá, từ mức {old_dividend} đồng năm trước. Với giá đóng cửa phiên trước {prev} đồng, tỷ suất cổ tức đạt {yield}%. Tổng số tiền dự kiến chi trả khoảng {payout} tỷ đồng.",
        en_title: "{co} raises cash dividend to {dividend} dong a share",
        en_body: "The board of {name} ({ticker}) approved raising this year's cash dividend to {dividend} dong a share, {div_rate}% of par value, from {old_dividend} dong last year. At the previous close of {prev} dong, that is a dividend yield of {yield}%. The payout will total about VND {payout} billion.",
    },
    Story {
        sectors: ANY,
        vi_title: "{co} ký đơn hàng xuất khẩu {usd} triệu USD sang {country}",
        vi_body: "{name} ({ticker}) vừa ký đơn hàng xuất khẩu trị giá {usd} triệu USD (khoảng {contract} tỷ đồng) với một đối tác tại {country}, giao hàng trong {months} tháng. Đây là đơn hàng lớn nhất từ trước đến nay của công ty, giúp lấp đầy công suất nhà máy đến cuối năm.",
        en_title: "{co} signs USD {usd} million export order with {nationality} buyer",
        en_body: "{name} ({ticker}) signed an export order worth USD {usd} million (about VND {contract} billion) with a buyer in {country}, for delivery over {months} months. It is the largest order in the company's history and fills its plants' capacity until the end of the year.",
    },
    Story {
        sectors: ANY,
        vi_title: "{co} dự kiến mua lại {shares} triệu cổ phiếu quỹ",
        vi_body: "{name} ({ticker}) công bố kế hoạch mua lại tối đa {shares} triệu cổ phiếu, tương đương {stake}% vốn điều lệ, để làm cổ phiếu quỹ. Giao dịch dự kiến thực hiện bằng phương thức khớp lệnh trong {months} tháng, nguồn vốn từ lợi nhuận chưa phân phối. Ban lãnh đạo cho rằng giá cổ phiếu hiện tại chưa phản ánh đúng giá trị doanh nghiệp.",
        en_title: "{co} plans to buy back {shares} million shares",
        en_body: "{name} ({ticker}) announced a plan to buy back up to {shares} million of its shares, {stake}% of its charter capital, as treasury stock. The purchases will be made on the order-matching board over {months} months and funded from retained earnings. Management said the current share price does not reflect the company's value.",
    },
    Story {
        sectors: ANY,
        vi_title: "Nhà đầu tư {country} muốn mua {stake}% vốn {co}",
        vi_body: "Một tập đoàn đến từ {country} đã đề nghị mua {stake}% cổ phần của {name} ({ticker}) qua đợt phát hành riêng lẻ, với giá dự kiến {target} đồng/cổ phiếu, cao hơn {upside}% so với giá đóng cửa phiên trước. Nếu hoàn tất, thương vụ sẽ mang về cho công ty khoảng {placement} tỷ đồng.",
        en_title: "{nationality} investor seeks {stake}% stake in {co}",
        en_body: "A group from {country} has offered to buy {stake}% of {name} ({ticker}) in a private placement at a proposed {target} dong a share, {upside}% above the previous close. If completed, the deal would bring the company about VND {placement} billion.",
    },
    Story {
        sectors: ANY,
        vi_title: "{co} được chấp thuận dự án nhà máy {capex} tỷ đồng tại {province}",
        vi_body: "{name} ({ticker}) nhận quyết định chấp thuận chủ trương đầu tư dự án nhà máy mới tại {province} với tổng vốn {capex} tỷ đồng. Khi đi vào hoạt động, dự án dự kiến nâng công suất của công ty thêm {capacity}%. Công ty cho biết sẽ khởi công trong {months} tháng tới.",
        en_title: "{co} wins approval for VND {capex} billion plant in {province}",
        en_body: "{name} ({ticker}) received approval to invest VND {capex} billion in a new plant in {province}. Once running, it is expected to lift the company's capacity by {capacity}%. The company said construction would start within {months} months.",
    },
    Story {
        sectors: ANY,
        vi_title: "{co}: doanh thu {month} cao kỷ lục, tăng {growth}%",
        vi_body: "Doanh thu {month} của {name} ({ticker}) đạt {month_revenue} tỷ đồng, tăng {growth}% so với cùng kỳ và là mức cao nhất từ trước đến nay. Lũy kế từ đầu năm, công ty đã hoàn thành {progress}% kế hoạch doanh thu cả năm.",
        en_title: "{co} reports record {month} sales, up {growth}%",
        en_body: "{name} ({ticker}) said its {month} revenue reached VND {month_revenue} billion, up {growth}% from a year earlier and the highest on record. So far this year the company has met {progress}% of its full-year revenue target.",
    },
    Story {
        sectors: ANY,
        vi_title: "{co} hoàn tất tái cấu trúc nợ, giảm {fine} tỷ đồng chi phí lãi vay",
        vi_body: "{name} ({ticker}) đã hoàn tất tái cấu trúc khoản vay {bond} tỷ đồng với nhóm ngân hàng chủ nợ, kéo dài kỳ hạn thêm {years} năm và hạ lãi suất. Chi phí lãi vay dự kiến giảm khoảng {fine} tỷ đồng mỗi năm; hệ số nợ trên vốn chủ sở hữu giảm xuống {leverage} lần.",
        en_title: "{co} completes debt restructuring, cutting interest costs by VND {fine} billion",
        en_body: "{name} ({ticker}) completed the restructuring of VND {bond} billion of loans with its creditor banks, extending maturities by {years} years at lower rates. Interest costs are expected to fall by about VND {fine} billion a year, and debt-to-equity drops to {leverage} times.",
    },
    Story {
        sectors: ANY,
        vi_title: "{co} nâng kế hoạch lợi nhuận năm lên {plan} tỷ đồng",
        vi_body: "Hội đồng quản trị {name} ({ticker}) điều chỉnh tăng kế hoạch lợi nhuận trước thuế năm nay lên {plan} tỷ đồng, cao hơn {growth}% so với kế hoạch ban đầu. Theo công ty, nhu cầu phục hồi mạnh và giá bán tăng giúp kết quả kinh doanh quý {q} vượt kỳ vọng.",
        en_title: "{co} lifts full-year profit target to VND {plan} billion",
        en_body: "The board of {name} ({ticker}) raised its pre-tax profit target for the year to VND {plan} billion, {growth}% above the original plan. The company said strong demand and higher selling prices lifted its {q} results above expectations.",
    },
    Story {
        sectors: ANY,
        vi_title: "{ticker} dự kiến vào danh mục quỹ ETF, ước được mua {etf_shares} triệu cổ phiếu",
        vi_body: "Theo dự báo của một công ty chứng khoán, cổ phiếu {ticker} của {name} nhiều khả năng được thêm vào danh mục các quỹ ETF ngoại trong kỳ cơ cấu tới. Các quỹ ước tính sẽ mua vào khoảng {etf_shares} triệu cổ phiếu, tương đương {liquidity_days} phiên giao dịch bình quân.",
        en_title: "{ticker} tipped for ETF inclusion, with {etf_shares} million shares to buy",
        en_body: "{name} ({ticker}) is likely to be added to foreign ETFs' portfolios at the next review, a brokerage forecast. The funds are estimated to buy about {etf_shares} million shares, equal to {liquidity_days} sessions of average trading.",
    },
    Story {
        sectors: &[Sector::Banks],
        vi_title: "{co} được nới hạn mức tăng trưởng tín dụng lên {credit}%",
        vi_body: "Ngân hàng Nhà nước vừa chấp thuận nâng hạn mức tăng trưởng tín dụng năm nay của {name} ({ticker}) lên {credit}%, cao hơn mức bình quân toàn ngành. Với dư nợ hiện khoảng {loans} nghìn tỷ đồng, hạn mức mới cho phép ngân hàng cho vay thêm khoảng {extra_loans} nghìn tỷ đồng.",
        en_title: "{co} gets higher credit growth quota of {credit}%",
        en_body: "The State Bank of Vietnam raised the credit growth quota of {name} ({ticker}) for the year to {credit}%, above the industry average. With outstanding loans of about VND {loans} trillion, the new quota lets the bank lend roughly VND {extra_loans} trillion more.",
    },
    Story {
        sectors: &[Sector::RealEstate],
        vi_title: "{co} mở bán dự án mới, hấp thụ {absorb}% giỏ hàng",
        vi_body: "Dự án mới của {name} ({ticker}) tại {province} đã bán được {absorb}% trong số {units} căn hộ chào bán ngay trong đợt mở bán đầu tiên. Doanh số ước đạt {contract} tỷ đồng, sẽ được ghi nhận vào doanh thu khi bàn giao.",
        en_title: "{co} sells {absorb}% of new project at launch",
        en_body: "{name} ({ticker}) sold {absorb}% of the {units} apartments offered at its new project in {province} in the first launch. Sales are estimated at VND {contract} billion, to be booked as revenue on handover.",
    },
    Story {
        sectors: &[Sector::Securities],
        vi_title: "Dư nợ ký quỹ của {co} lập đỉnh {contract} tỷ đồng",
        vi_body: "Dư nợ cho vay ký quỹ của {name} ({ticker}) đạt {contract} tỷ đồng vào cuối tháng trước, cao nhất từ trước đến nay và tăng {growth}% so với đầu năm. Thị phần môi giới của công ty trên HOSE tăng lên {market_share}%.",
        en_title: "{co} margin lending hits record VND {contract} billion",
        en_body: "Margin loans of {name} ({ticker}) reached a record VND {contract} billion at the end of last month, up {growth}% since the start of the year. Its brokerage market share on HOSE rose to {market_share}%.",
    },
];

/// Pre-open company events that explain a fall.
pub(super) const BAD: &[Story] = &[
    Story {
        sectors: ANY,
        vi_title: "{co} báo lãi quý {q} giảm {growth}%, thấp hơn kỳ vọng",
        vi_body: "{name} ({ticker}) công bố lợi nhuận sau thuế quý {q} chỉ đạt {profit} tỷ đồng, giảm {growth}% so với cùng kỳ năm trước và thấp hơn đáng kể dự báo của giới phân tích. Công ty cho biết sức mua yếu và chi phí tài chính tăng đã bào mòn biên lợi nhuận. Cổ phiếu {ticker} đóng cửa phiên trước ở mức {prev} đồng.",
        en_title: "{co} {q} profit falls {growth}%, missing forecasts",
        en_body: "{name} ({ticker}) reported after-tax profit of just VND {profit} billion for {q}, down {growth}% from a year earlier and well below analysts' forecasts. The company blamed weak demand and higher financing costs for squeezing margins. {ticker} closed at {prev} dong in the previous session.",
    },
    Story {
        sectors: ANY,
        vi_title: "{co} bị hủy hợp đồng {contract} tỷ đồng",
        vi_body: "{name} ({ticker}) cho biết đối tác đã đơn phương chấm dứt hợp đồng trị giá {contract} tỷ đồng, tương đương khoảng {contract_share}% doanh thu năm trước. Công ty đang xem xét các biện pháp pháp lý để đòi bồi thường, nhưng cảnh báo kết quả kinh doanh {months} tháng tới sẽ bị ảnh hưởng.",
        en_title: "{co} loses VND {contract} billion contract",
        en_body: "{name} ({ticker}) said a client had cancelled a contract worth VND {contract} billion, about {contract_share}% of last year's revenue. The company is weighing legal action to seek compensation but warned that results over the next {months} months will suffer.",
    },
    Story {
        sectors: ANY,
        vi_title: "Hạ khuyến nghị {ticker} xuống Bán, giá mục tiêu {target} đồng",
        vi_body: "Một công ty chứng khoán lớn vừa hạ khuyến nghị với cổ phiếu {ticker} của {name} xuống Bán, với giá mục tiêu {target} đồng, thấp hơn {upside}% so với giá đóng cửa gần nhất {prev} đồng. Báo cáo dự báo lợi nhuận năm nay giảm {growth}% do nhu cầu suy yếu.",
        en_title: "Brokerage downgrades {ticker} to Sell, sets {target} dong target",
        en_body: "A major brokerage downgraded {name} ({ticker}) to Sell, with a target price of {target} dong, {upside}% below the last close of {prev} dong. The report forecasts a {growth}% fall in profit this year on weakening demand.",
    },
    Story {
        sectors: ANY,
        vi_title: "{co} giảm cổ tức tiền mặt xuống {dividend} đồng/cổ phiếu",
        vi_body: "Hội đồng quản trị {name} ({ticker}) trình cổ đông phương án giảm cổ tức tiền mặt năm nay xuống {dividend} đồng/cổ phiếu, tương đương {div_rate}% mệnh giá, so với {old_dividend} đồng năm trước. Công ty cho biết cần giữ lại tiền mặt để trả các khoản vay đến hạn.",
        en_title: "{co} cuts cash dividend to {dividend} dong a share",
        en_body: "The board of {name} ({ticker}) proposed cutting this year's cash dividend to {dividend} dong a share, {div_rate}% of par value, from {old_dividend} dong last year. The company said it needs to keep cash to repay maturing loans.",
    },
    Story {
        sectors: ANY,
        vi_title: "{co} bị thanh tra thuế, có thể bị truy thu {fine} tỷ đồng",
        vi_body: "Cơ quan thuế đã công bố quyết định thanh tra {name} ({ticker}) giai đoạn {years_range}. Theo kết luận sơ bộ, công ty có thể phải nộp bổ sung và bị phạt tổng cộng {fine} tỷ đồng, tương đương {profit_share}% lợi nhuận năm trước.",
        en_title: "{co} faces tax probe, may owe VND {fine} billion",
        en_body: "Tax authorities opened an inspection of {name} ({ticker}) covering {years_range}. Preliminary findings suggest the company may have to pay back taxes and fines totalling VND {fine} billion, {profit_share}% of last year's profit.",
    },
    Story {
        sectors: ANY,
        vi_title: "{co} chậm trả lãi lô trái phiếu {bond} tỷ đồng",
        vi_body: "{name} ({ticker}) thông báo chậm thanh toán kỳ lãi của lô trái phiếu trị giá {bond} tỷ đồng do chưa thu xếp được dòng tiền. Công ty đề xuất trái chủ gia hạn thanh toán thêm {months} tháng. Tổng dư nợ trái phiếu của doanh nghiệp hiện khoảng {bond_total} tỷ đồng.",
        en_title: "{co} misses interest payment on VND {bond} billion bonds",
        en_body: "{name} ({ticker}) said it had missed an interest payment on VND {bond} billion of bonds because of a cash shortfall. The company has asked bondholders for a {months}-month extension. Its outstanding bonds total about VND {bond_total} billion.",
    },
    Story {
        sectors: ANY,
        vi_title: "Cháy lớn tại nhà máy của {co} ở {province}",
        vi_body: "Một vụ hỏa hoạn đã xảy ra tại nhà máy của {name} ({ticker}) ở {province} trong đêm qua, không có thương vong về người. Thiệt hại ban đầu ước tính khoảng {fine} tỷ đồng; nhà máy chiếm {capacity}% công suất của công ty và có thể phải ngừng hoạt động {months} tháng.",
        en_title: "Fire hits {co} plant in {province}",
        en_body: "A fire broke out overnight at a plant of {name} ({ticker}) in {province}, with no casualties. Initial damage is estimated at VND {fine} billion; the plant accounts for {capacity}% of the company's capacity and may be shut for {months} months.",
    },
    Story {
        sectors: ANY,
        vi_title: "{country} áp thuế chống bán phá giá {duty}% lên sản phẩm của {co}",
        vi_body: "Cơ quan thương mại {country} vừa công bố mức thuế chống bán phá giá sơ bộ {duty}% đối với sản phẩm xuất khẩu của {name} ({ticker}). Thị trường này chiếm khoảng {export_share}% doanh thu xuất khẩu của công ty, tương đương {usd} triệu USD mỗi năm.",
        en_title: "{country} slaps {duty}% anti-dumping duty on {co} products",
        en_body: "Trade authorities in {country} set a preliminary anti-dumping duty of {duty}% on exports by {name} ({ticker}). The market accounts for about {export_share}% of the company's export revenue, or USD {usd} million a year.",
    },
    Story {
        sectors: ANY,
        vi_title: "Cổ đông lớn đăng ký bán {shares} triệu cổ phiếu {ticker}",
        vi_body: "Một cổ đông lớn của {name} ({ticker}) vừa đăng ký bán {shares} triệu cổ phiếu, tương đương {stake}% vốn, trong thời gian từ {date_from} đến {date_to}. Với giá đóng cửa phiên trước {prev} đồng, lượng cổ phiếu này trị giá khoảng {deal} tỷ đồng.",
        en_title: "Major shareholder to sell {shares} million {ticker} shares",
        en_body: "A major shareholder of {name} ({ticker}) registered to sell {shares} million shares, {stake}% of the company, between {date_from} and {date_to}. At the previous close of {prev} dong, the stake is worth about VND {deal} billion.",
    },
    Story {
        sectors: ANY,
        vi_title: "Kiểm toán ngoại trừ, lợi nhuận {co} bị điều chỉnh giảm {fine} tỷ đồng",
        vi_body: "Báo cáo tài chính soát xét của {name} ({ticker}) nhận ý kiến ngoại trừ của đơn vị kiểm toán liên quan đến các khoản phải thu khó đòi. Sau soát xét, lợi nhuận sau thuế bị điều chỉnh giảm {fine} tỷ đồng, còn {profit} tỷ đồng.",
        en_title: "Auditor qualifies {co} accounts, cuts profit by VND {fine} billion",
        en_body: "The auditor of {name} ({ticker}) issued a qualified opinion on its reviewed financial statements over doubtful receivables. After the review, after-tax profit was revised down by VND {fine} billion to VND {profit} billion.",
    },
    Story {
        sectors: ANY,
        vi_title: "{co} hạ kế hoạch lợi nhuận năm xuống {plan} tỷ đồng",
        vi_body: "Hội đồng quản trị {name} ({ticker}) điều chỉnh giảm kế hoạch lợi nhuận trước thuế năm nay xuống {plan} tỷ đồng, thấp hơn {growth}% so với kế hoạch ban đầu. Công ty cho biết đơn hàng sụt giảm và giá nguyên liệu tăng khiến kết quả quý {q} kém khả quan.",
        en_title: "{co} cuts full-year profit target to VND {plan} billion",
        en_body: "The board of {name} ({ticker}) lowered its pre-tax profit target for the year to VND {plan} billion, {growth}% below the original plan. The company said falling orders and higher raw-material costs hurt its {q} results.",
    },
    Story {
        sectors: ANY,
        vi_title: "Tổng giám đốc {co} bất ngờ từ nhiệm",
        vi_body: "{name} ({ticker}) thông báo {person} đã nộp đơn từ nhiệm chức vụ Tổng giám đốc sau {tenure} năm điều hành, có hiệu lực ngay. Công ty chưa công bố người kế nhiệm. Đây là lần thay đổi nhân sự cấp cao thứ {changes} của công ty trong năm nay.",
        en_title: "{co} chief executive resigns unexpectedly",
        en_body: "{name} ({ticker}) said chief executive {person} had resigned with immediate effect after {tenure} years in the job. No successor has been named. It is the company's {changes} senior management change this year.",
    },
    Story {
        sectors: &[Sector::Banks],
        vi_title: "Nợ xấu của {co} tăng lên {npl_new}%",
        vi_body: "Tỷ lệ nợ xấu của {name} ({ticker}) tăng từ {npl_old}% lên {npl_new}% trong quý {q}, buộc ngân hàng trích lập thêm {fine} tỷ đồng dự phòng rủi ro. Vì vậy, lợi nhuận trước thuế quý {q} giảm {growth}% so với cùng kỳ.",
        en_title: "{co} bad-debt ratio rises to {npl_new}%",
        en_body: "The non-performing loan ratio of {name} ({ticker}) rose to {npl_new}% in {q} from {npl_old}%, forcing the bank to set aside an extra VND {fine} billion in provisions. As a result, pre-tax profit for {q} fell {growth}% from a year earlier.",
    },
    Story {
        sectors: &[Sector::RealEstate],
        vi_title: "Dự án {capex} tỷ đồng của {co} bị tạm dừng vì vướng pháp lý",
        vi_body: "Cơ quan chức năng tại {province} yêu cầu tạm dừng triển khai dự án có tổng vốn {capex} tỷ đồng của {name} ({ticker}) để rà soát thủ tục giao đất. Dự án dự kiến đóng góp khoảng {project_share}% doanh thu của công ty trong {years} năm tới.",
        en_title: "{co} VND {capex} billion project halted over legal issues",
        en_body: "Authorities in {province} ordered {name} ({ticker}) to suspend its VND {capex} billion project pending a review of land allocation procedures. The project was expected to provide about {project_share}% of the company's revenue over the next {years} years.",
    },
    Story {
        sectors: &[Sector::Securities],
        vi_title: "{co} bị phạt {penalty} triệu đồng vì vi phạm quy định cho vay ký quỹ",
        vi_body: "Ủy ban Chứng khoán Nhà nước đã xử phạt {name} ({ticker}) {penalty} triệu đồng và đình chỉ hoạt động cho vay ký quỹ trong {months} tháng do cho vay vượt hạn mức. Dư nợ ký quỹ hiện tại của công ty khoảng {contract} tỷ đồng.",
        en_title: "{co} fined VND {penalty} million over margin lending breaches",
        en_body: "The State Securities Commission fined {name} ({ticker}) VND {penalty} million and suspended its margin lending for {months} months for exceeding lending limits. The company's margin loans currently stand at about VND {contract} billion.",
    },
];

/// Procedural announcements with no direction.
pub(super) const NOTICES: &[Story] = &[
    Story {
        sectors: ANY,
        vi_title: "{co} chốt ngày họp Đại hội đồng cổ đông thường niên {year}",
        vi_body: "{name} ({ticker}) thông báo ngày đăng ký cuối cùng để thực hiện quyền tham dự Đại hội đồng cổ đông thường niên năm {year} là {date_from}. Đại hội dự kiến được tổ chức vào ngày {date_to} tại {province}. Số cổ phiếu đang lưu hành: {outstanding} cổ phiếu.",
        en_title: "{co} sets date for {year} annual shareholders' meeting",
        en_body: "{name} ({ticker}) set {date_from} as the record date for its {year} annual general meeting, to be held on {date_to} in {province}. Shares outstanding: {outstanding}.",
    },
    Story {
        sectors: ANY,
        vi_title: "{co} chốt quyền nhận cổ tức {dividend} đồng/cổ phiếu",
        vi_body: "{name} ({ticker}) thông báo ngày đăng ký cuối cùng nhận cổ tức tiền mặt đợt cuối năm {last_year} là {date_from}, tỷ lệ {div_rate}% (tương ứng {dividend} đồng/cổ phiếu). Ngày thanh toán dự kiến là {date_to}.",
        en_title: "{co} sets record date for {dividend} dong dividend",
        en_body: "{name} ({ticker}) set {date_from} as the record date for its final {last_year} cash dividend of {div_rate}%, or {dividend} dong a share. Payment is expected on {date_to}.",
    },
    Story {
        sectors: ANY,
        vi_title: "{co} bổ nhiệm Phó Tổng giám đốc mới",
        vi_body: "Hội đồng quản trị {name} ({ticker}) đã bổ nhiệm {person} làm Phó Tổng giám đốc từ ngày {date_from}, nhiệm kỳ {years} năm. Trước đó, {person} phụ trách khối tài chính của công ty.",
        en_title: "{co} appoints new deputy chief executive",
        en_body: "The board of {name} ({ticker}) appointed {person} as deputy chief executive from {date_from} for a {years}-year term. {person} previously headed the company's finance division.",
    },
    Story {
        sectors: ANY,
        vi_title: "{ticker} niêm yết bổ sung {etf_shares} triệu cổ phiếu",
        vi_body: "Sở Giao dịch Chứng khoán chấp thuận cho {name} ({ticker}) niêm yết bổ sung {etf_shares} triệu cổ phiếu phát hành theo chương trình lựa chọn cho người lao động. Số cổ phiếu này dự kiến được giao dịch từ ngày {date_from}; tổng số cổ phiếu niêm yết sau đợt bổ sung là {outstanding}.",
        en_title: "{ticker} to list {etf_shares} million additional shares",
        en_body: "The stock exchange approved the listing of {etf_shares} million additional shares of {name} ({ticker}), issued under its employee share plan. They are expected to start trading on {date_from}, bringing the total listed to {outstanding} shares.",
    },
    Story {
        sectors: ANY,
        vi_title: "{co} chọn đơn vị kiểm toán báo cáo tài chính năm {year}",
        vi_body: "Hội đồng quản trị {name} ({ticker}) đã thông qua việc lựa chọn đơn vị kiểm toán báo cáo tài chính năm {year} trong danh sách được Ủy ban Chứng khoán Nhà nước chấp thuận. Đơn vị kiểm toán sẽ soát xét báo cáo bán niên và kiểm toán báo cáo năm, với phí tối đa {penalty} triệu đồng.",
        en_title: "{co} picks auditor for {year} accounts",
        en_body: "The board of {name} ({ticker}) chose an auditor approved by the State Securities Commission for its {year} financial statements. The auditor will review the half-year accounts and audit the full year, for a fee of up to VND {penalty} million.",
    },
    Story {
        sectors: ANY,
        vi_title: "{co} tổ chức gặp gỡ nhà đầu tư ngày {date_to}",
        vi_body: "{name} ({ticker}) sẽ tổ chức buổi gặp gỡ nhà đầu tư và chuyên viên phân tích vào ngày {date_to} để cập nhật kết quả kinh doanh quý {q}. Nhà đầu tư đăng ký tham dự trước ngày {date_from}.",
        en_title: "{co} to hold investor meeting on {date_to}",
        en_body: "{name} ({ticker}) will hold a meeting with investors and analysts on {date_to} to discuss its {q} results. Investors should register by {date_from}.",
    },
    Story {
        sectors: ANY,
        vi_title: "{co} thay đổi địa chỉ trụ sở chính",
        vi_body: "{name} ({ticker}) thông báo chuyển trụ sở chính đến địa chỉ mới tại {province} từ ngày {date_from}. Vốn điều lệ của công ty không thay đổi, ở mức {charter} tỷ đồng.",
        en_title: "{co} moves head office",
        en_body: "{name} ({ticker}) will move its head office to a new address in {province} from {date_from}. Its charter capital is unchanged at VND {charter} billion.",
    },
];

/// After-close headlines of a stock that closed at its ceiling (titles only; the article is
/// [`MOVE_BODY_VI`] / [`MOVE_BODY_EN`]).
pub(super) const CEILING: &[(&str, &str)] = &[
    (
        "Cổ phiếu {ticker} tăng trần lên {close} đồng",
        "{co} shares hit the ceiling at {close} dong",
    ),
    (
        "{co} tăng kịch trần {pct}%, đóng cửa ở {close} đồng",
        "{co} jumps {pct}% to its ceiling of {close} dong",
    ),
    (
        "Sắc tím ở {ticker}: giá trần {close} đồng",
        "{ticker} closes limit-up at {close} dong",
    ),
];

/// After-close headlines of a rise short of the ceiling.
pub(super) const UP: &[(&str, &str)] = &[
    (
        "{ticker} tăng {pct}% lên {close} đồng",
        "{co} rises {pct}% to {close} dong",
    ),
    ("{co} bứt phá, tăng {pct}%", "{co} rallies {pct}%"),
    (
        "Dòng tiền đổ vào {ticker}, cổ phiếu tăng {pct}%",
        "Buyers pile into {ticker}, lifting it {pct}%",
    ),
];

/// After-close headlines of a stock that closed at its floor.
pub(super) const FLOOR: &[(&str, &str)] = &[
    (
        "Cổ phiếu {ticker} giảm sàn xuống {close} đồng",
        "{co} shares hit the floor at {close} dong",
    ),
    (
        "{co} mất {pct}%, nằm sàn ở {close} đồng",
        "{co} sinks {pct}% to its floor of {close} dong",
    ),
    (
        "{ticker} giảm kịch sàn, trắng bên mua",
        "{ticker} closes limit-down with no buyers",
    ),
];

/// After-close headlines of a fall short of the floor.
pub(super) const DOWN: &[(&str, &str)] = &[
    (
        "{ticker} giảm {pct}% xuống {close} đồng",
        "{co} falls {pct}% to {close} dong",
    ),
    ("{co} lao dốc {pct}%", "{co} slumps {pct}%"),
    (
        "Áp lực bán đè nặng {ticker}, cổ phiếu mất {pct}%",
        "Selling pressure drags {ticker} down {pct}%",
    ),
];

/// The after-close article: `{level}` is "giá trần " / "giá sàn " / "mức " and `{verb}`
/// "tăng" / "giảm"; `{streak}` and `{run}` are whole sentences or empty.
pub(super) const MOVE_BODY_VI: &str = "Kết thúc phiên {date}, cổ phiếu {ticker} của {name} đóng cửa ở {level}{close} đồng, {verb} {change} đồng ({pct}%) so với giá tham chiếu {ref} đồng.{streak}{run}";
/// The English after-close article (`{level}` "its ceiling price of " / "its floor price of "
/// / "", `{verb}` "up" / "down").
pub(super) const MOVE_BODY_EN: &str = "{name} ({ticker}) closed at {level}{close} dong on {date}, {verb} {change} dong or {pct}% from the reference price of {ref} dong.{streak}{run}";

/// Market-wrap headlines by direction: rise, fall, little changed.
pub(super) const WRAP_UP: &[(&str, &str)] = &[
    (
        "VN-Index tăng {points} điểm lên {value} điểm",
        "VN-Index rises {points} points to {value}",
    ),
    (
        "Thị trường khởi sắc, VN-Index tăng {pct}%",
        "Vietnam stocks gain as VN-Index climbs {pct}%",
    ),
    (
        "VN-Index đóng cửa ở {value} điểm, tăng {pct}%",
        "VN-Index closes up {pct}% at {value}",
    ),
];

/// Market-wrap headlines of a fall.
pub(super) const WRAP_DOWN: &[(&str, &str)] = &[
    (
        "VN-Index giảm {points} điểm xuống {value} điểm",
        "VN-Index falls {points} points to {value}",
    ),
    (
        "Thị trường đỏ lửa, VN-Index mất {pct}%",
        "Vietnam stocks slide as VN-Index loses {pct}%",
    ),
    (
        "VN-Index đóng cửa ở {value} điểm, giảm {pct}%",
        "VN-Index closes down {pct}% at {value}",
    ),
];

/// Market-wrap headlines of a day with |change| under the neutral threshold.
pub(super) const WRAP_FLAT: &[(&str, &str)] = &[
    (
        "VN-Index đi ngang quanh {value} điểm",
        "VN-Index little changed at {value}",
    ),
    (
        "Thị trường giằng co, VN-Index {signed_pct}%",
        "Vietnam stocks drift, VN-Index {signed_pct}%",
    ),
    (
        "Giao dịch thận trọng, VN-Index đóng cửa ở {value} điểm",
        "Cautious trading leaves VN-Index at {value}",
    ),
];
