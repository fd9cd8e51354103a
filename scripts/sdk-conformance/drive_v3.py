"""Drives fcsim's FastConnect v3 with SSI's official Python SDK, unchanged (ssi-sdk 3.3.2).

Reads FCSIM_V3_URL (REST base, http or https), FCSIM_V3_STREAM_URL (wss://.../ws/v3; the
SDK refuses ws://, so SSL_CERT_FILE must name the simulator's certificate) and optional
FCSIM_DATE (dd/MM/yyyy, the simulated today), FCSIM_ACCOUNT, FCSIM_V3_KEY / FCSIM_V3_SECRET
(data-only key), FCSIM_V3_SMART_KEY / FCSIM_V3_SMART_SECRET (Smart-OTP key used for
trading), FCSIM_KEY_FILE (signing key) from the environment. Prints one line per check
and exits 0 only if every check passed.
"""

import datetime
import os
import random
import string
import sys
import threading
import time

from ssi_sdk import Auth, Config, Data, DuplicateRequestError, Stream, Trading
from ssi_sdk.enums.market_data import Board
from ssi_sdk.enums.trading import OrderSide, OrderType

TIMEOUT = float(os.environ.get("FCSIM_TIMEOUT", "30"))
FAILED = []


def check(name, ok, detail=""):
    print(("ok    " if ok else "FAIL  ") + name + (": " + str(detail) if detail else ""), flush=True)
    if not ok:
        FAILED.append(name)
    return ok


def code(v):
    """An SDK enum or its raw text, as text."""
    return str(getattr(v, "value", v))


def rid(prefix):
    tail = "".join(random.choice(string.ascii_letters + string.digits) for _ in range(12))
    return (prefix + tail)[:20]


def config(key, secret):
    with open(os.environ["FCSIM_KEY_FILE"]) as f:
        private_key = f.read().strip()
    return Config(
        api_url=os.environ["FCSIM_V3_URL"].rstrip("/"),
        streaming_url=os.environ["FCSIM_V3_STREAM_URL"],
        api_key=key,
        api_secret=secret,
        private_key=private_key,
        rate_limit_per_second=0,
    )


def data_checks(day):
    ymd = day.strftime("%Y/%m/%d")
    prev = (day - datetime.timedelta(days=1)).strftime("%Y/%m/%d")
    month_ago = (day - datetime.timedelta(days=29)).strftime("%Y/%m/%d")
    key = os.environ.get("FCSIM_V3_KEY", "demo-v3")
    secret = os.environ.get("FCSIM_V3_SECRET", "demo-v3-secret")
    with Auth(config(key, secret)) as auth:
        token = auth.authenticate()
        check("v3 token without OTP (data scope)", bool(token.access_token) and token.refresh_token != "")
        with Data(auth) as client:
            md = client.market_data
            bars = md.get_ohlc_1day_historical("SSI", month_ago, ymd, 1, 100)
            check("v3 ohlc 1d", len(bars) > 10 and all(b.low_price <= b.high_price for b in bars), "%d bars" % len(bars))
            minutes = md.get_ohlc_5minute_historical("SSI", prev, prev, 1, 100)
            check("v3 ohlc 5m", len(minutes) > 10, "%d bars" % len(minutes))
            indexes = md.get_indexes_by_board(Board.HOSE)
            check("v3 indexList", any(i.index == "VNINDEX" for i in indexes), len(indexes))
            summary = md.get_index_summary_historical("VNINDEX", prev)
            check("v3 indexSummary", summary is not None and summary.index_value > 0)
            info = md.get_securities_info("SSI")
            check("v3 securitiesByBoard (symbol)", info is not None and info.symbol == "SSI")
            board = md.get_securities_info_by_board(Board.HNX)
            check("v3 securitiesByBoard (board)", len(board) > 0 and all(code(s.board) == "HNX" for s in board), len(board))
            sec = md.get_securities_summary_historical("SSI", month_ago, prev)
            check("v3 securitiesSummary", len(sec) > 5 and all(s.low_price <= s.high_price for s in sec), len(sec))
            master = md.get_master_data_historical(ymd, ymd)
            check("v3 masterdata", len(master) > 0, len(master))
            odd = [(m.symbol, m.floor, m.ref_price, m.ceiling) for m in master
                   if not (m.floor <= m.ref_price <= m.ceiling and m.floor < m.ceiling)]
            check("v3 masterdata bands", not odd, odd[:3])
            ssi = [m for m in md.get_master_data_historical(ymd, ymd) if m.symbol == "SSI"]
            actions = md.get_corporate_actions_historical(prev, prev)
            check("v3 corporateActions (none simulated)", actions == [])
    return ssi[0] if ssi else None


def sms_otp_checks():
    """An SMS-OTP login with the data key: the OTP is read from the simulator's outbox file
    (what the phone would receive), a wrong one is refused first."""
    outbox = os.environ.get("FCSIM_OTP_OUTBOX")
    if not outbox:
        print("skip  v3 SMS-OTP login: FCSIM_OTP_OUTBOX is not set", flush=True)
        return
    key = os.environ.get("FCSIM_V3_KEY", "demo-v3")
    secret = os.environ.get("FCSIM_V3_SECRET", "demo-v3-secret")
    with Auth(config(key, secret)) as auth:
        auth.request_otp()
        sent = []
        deadline = time.time() + TIMEOUT
        while not sent and time.time() < deadline:
            with open(outbox) as f:
                sent = [line.split()[1] for line in f if line.startswith(key + " ")]
            time.sleep(0.05)
        check("v3 requestOtp (SMS) delivers an OTP", bool(sent))
        try:
            auth.authenticate(otp="000000" if sent and sent[-1] != "000000" else "111111")
            check("v3 wrong OTP refused", False)
        except Exception:  # noqa: BLE001 - the SDK raises its auth error
            check("v3 wrong OTP refused", True)
        token = auth.authenticate(otp=sent[-1])
        check("v3 SMS-OTP login", bool(token.access_token), "")
        with Trading(auth) as client:
            accounts = client.account.get_account_info()
            check("v3 account/info after SMS-OTP login", len(accounts) > 0, len(accounts))


def trading_checks(day, band):
    ymd = day.strftime("%Y/%m/%d")
    account = os.environ.get("FCSIM_ACCOUNT", "0001001")
    key = os.environ.get("FCSIM_V3_SMART_KEY", "demo-v3-smart")
    secret = os.environ.get("FCSIM_V3_SMART_SECRET", "demo-v3-smart-secret")
    with Auth(config(key, secret)) as auth:
        otp = auth.request_otp_typed()
        check("v3 requestOtp (Smart OTP)", bool(otp.transaction_id))
        token = auth.ensure_authenticated(transaction_id=otp.transaction_id, poll_interval_ms=200, poll_max_retries=10)
        check("v3 Smart-OTP login after approval", bool(token))
        refreshed = auth.refresh()
        check("v3 refresh", bool(refreshed.access_token) and refreshed.access_token != token)

        events = []
        got_order = threading.Event()
        got_trade = threading.Event()

        with Trading(auth) as client, Stream(auth) as stream:
            accounts = client.account.get_account_info()
            check("v3 account/info", any(a.account_no == account for a in accounts), [a.account_no for a in accounts])

            def on_trading(msg):
                events.append(msg)
                got_order.set()

            kinds = set()
            acks = []

            def on_data(msg):
                kinds.add(type(msg).__name__)
                got_trade.set()

            s = stream.streaming
            s.on_trading = on_trading
            s.on_data = on_data
            s.connect()
            s.subscribe_symbol_trade(["SSI"])
            s.subscribe_order_status(account)
            check("v3 stream (wss) trade.SSI", got_trade.wait(TIMEOUT))
            # Every other data topic, and the portfolio topic; each answers with its own
            # message type (put-through deals and odd lots arrive only when one happens, so
            # those two are checked by their acknowledgement).
            ack = acks.append
            s.subscribe_symbol_quote(["SSI"], on_response=ack)
            s.subscribe_symbol_room(["SSI"], on_response=ack)
            s.subscribe_market(["SSI"], on_response=ack)
            s.subscribe_market_flag(on_response=ack)
            s.subscribe_symbol_ohlcv(["SSI"], "1m", on_response=ack)
            s.subscribe_index_trade(["VN30"], on_response=ack)
            s.subscribe_index_summary(["VN30"], on_response=ack)
            s.subscribe_symbol_put_through(["SSI"], on_response=ack)
            s.subscribe_symbol_odd_lot(["SSI"], on_response=ack)
            s.subscribe_portfolio(account, on_response=ack)
            wanted = ["QuoteMessage", "ForeignRoomMessage", "MarketDataMessage", "MarketFlagMessage",
                      "IntervalMessage", "IndexTickMessage", "IndexSummaryMessage"]
            deadline = time.time() + TIMEOUT
            while time.time() < deadline and not (set(wanted) <= kinds and len(acks) >= 10):
                time.sleep(0.1)
            for kind in wanted:
                check("v3 stream delivers " + kind, kind in kinds, sorted(kinds))
            ok_acks = [a for a in acks if str(a.get("status", "")).lower() == "ok"]
            check("v3 stream acknowledges all 10 subscriptions (put, oddlot, portfolio included)",
                  len(ok_acks) >= 10, acks)

            floor = int(band.floor) if band is not None else 0
            crid = rid("sdk")
            placed = client.trading.place_limit_order(account, "SSI", OrderSide.BUY, 100, floor, client_request_id=crid)
            check("v3 place limit order (signed)", bool(placed.order_id) and placed.client_request_id == crid, code(placed.status))
            check("v3 stream order event", got_order.wait(TIMEOUT), len(events))
            try:
                client.trading.place_limit_order(account, "SSI", OrderSide.BUY, 100, floor, client_request_id=crid)
                check("v3 duplicate clientRequestId is 409", False)
            except DuplicateRequestError:
                check("v3 duplicate clientRequestId is 409", True)
            modified = client.trading.modify_order_quantity(account, crid, 200)
            check("v3 modify quantity (PUT, signed)", str(modified.order_id) == str(placed.order_id))
            cancelled = client.trading.cancel_order(account, crid)
            check("v3 cancel (DELETE with a body, signed)", code(cancelled.status) == "CL", code(cancelled.status))
            batch = client.trading.place_batch_orders([
                {"account_no": account, "symbol": "SSI", "side": OrderSide.BUY, "quantity": 100, "price": floor,
                 "order_type": OrderType.LO},
                {"account_no": account, "symbol": "SSI", "side": OrderSide.BUY, "quantity": 100, "price": floor,
                 "order_type": OrderType.LO},
            ])
            check("v3 batch place", len(batch.results) == 2 and all(r.success for r in batch.results))
            cancels = [{"account_no": account, "client_request_id": r.client_request_id} for r in batch.results]
            undone = client.trading.cancel_batch_orders(cancels)
            check("v3 batch cancel", all(r.success for r in undone.results))
            orders = client.portfolio.get_historical_orders(account, ymd, ymd)
            check("v3 orderBook", any(o.client_request_id == crid for o in orders), len(orders))
            mbs = client.trading.get_max_buy_sell(account, "SSI", floor)
            check("v3 maxBuySell", mbs.max_buy_quantity > 0 and mbs.max_sell_quantity > 0,
                  (mbs.max_buy_quantity, mbs.max_sell_quantity))
            bal = client.portfolio.get_equity_balance(account)
            check("v3 accountBalance", bal.account_balance > 0, bal.account_balance)
            pos = client.portfolio.get_equity_positions(account)
            check("v3 position", any(p.symbol == "SSI" and p.quantity > 0 for p in pos), len(pos))
            pp = client.portfolio.get_equity_ppmmr(account)
            check("v3 ppmmrAccount", pp.purchasing_power > 0, pp.purchasing_power)
            fco_checks(client.trading, account, day, band)
            s.disconnect()


def fco_until(trading, account, fco_id, status):
    deadline = time.time() + TIMEOUT
    info = None
    while time.time() < deadline:
        info = trading.get_fco_by_id(account, fco_id)
        if info is not None and code(info.status) == status:
            return info
        time.sleep(0.2)
    return info


def fco_checks(trading, account, day, band):
    start = day.strftime("%Y/%m/%d 00:00:00")
    end = (day + datetime.timedelta(days=10)).strftime("%Y/%m/%d 23:59:59")
    floor = int(band.floor) if band is not None else 0
    ceiling = int(band.ceiling) if band is not None else 0
    # A stop buy whose condition holds at once: triggered, its marketable child fills.
    stop = trading.place_fco_stop(account, "SSI", OrderSide.BUY, 100, floor, "greater_or_equal", start, end)
    check("v3 FCO stop placed (signed)", bool(stop.fco_id), stop.fco_id)
    done = fco_until(trading, account, stop.fco_id, "FIS")
    check("v3 FCO stop triggered and finished", done is not None and code(done.status) == "FIS"
          and done.matched_quantity == 100, done and code(done.status))
    book = trading.get_fco_order_book(stop.fco_id)
    check("v3 FCO order book", len(book.order_book) == 1 and book.order_book[0].matched_quantity == 100)
    history = trading.get_fco_status_history(stop.fco_id)
    check("v3 FCO status history", [h.state for h in history] == ["WAIT", "TRI", "TRIT", "FIS"],
          [h.state for h in history])
    # An OCO on the holding: its take-profit leg rests at the ceiling until cancelled.
    oco = trading.place_fco_oco(account, "SSI", OrderSide.SELL, 100, floor, floor, ceiling, OrderType.MP, 0, 0,
                                start, end)
    armed = fco_until(trading, account, oco.fco_id, "TRIT")
    check("v3 FCO oco leg placed", armed is not None and code(armed.status) == "TRIT")
    cancelled = trading.cancel_fco(oco.fco_id)
    check("v3 FCO cancel (DELETE, signed)", str(cancelled.fco_id) == str(oco.fco_id))
    ended = fco_until(trading, account, oco.fco_id, "TER")
    check("v3 FCO cancelled", ended is not None and code(ended.status) == "TER")
    listed = trading.get_fco_by_account_no(account)
    check("v3 FCO list", listed.items_count >= 2 and len(listed.fco_list) >= 2, listed.items_count)


def main():
    day = datetime.datetime.strptime(os.environ.get("FCSIM_DATE", "10/06/2025"), "%d/%m/%Y")
    for name, run in (("data", lambda: data_checks(day)),):
        try:
            band = run()
        except Exception as e:  # noqa: BLE001 - a crash is a failed check
            band = None
            check("v3 %s checks ran" % name, False, repr(e))
    try:
        sms_otp_checks()
    except Exception as e:  # noqa: BLE001
        check("v3 SMS-OTP checks ran", False, repr(e))
    try:
        trading_checks(day, band)
    except Exception as e:  # noqa: BLE001
        check("v3 trading checks ran", False, repr(e))
    if FAILED:
        print("FAILED: " + ", ".join(FAILED), flush=True)
        sys.exit(1)
    print("all v3 SDK checks passed", flush=True)


if __name__ == "__main__":
    main()
