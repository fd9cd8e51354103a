"""Drives fcsim with SSI's official Python SDKs, unchanged (ssi-fc-data, ssi-fctrading).

Reads FCSIM_DATA_URL, FCSIM_TRADING_URL, FCSIM_KEY_FILE and optional FCSIM_DATE
(dd/MM/yyyy, the simulated today) from the environment. Prints one line per check and
exits 0 only if every check passed.
"""

import datetime
import os
import random
import sys
import threading
import json

from ssi_fc_data import fc_md_client, model
from ssi_fc_data.fc_md_stream import MarketDataStream
from ssi_fctrading import FCTradingClient, FCTradingStream
from ssi_fctrading.models import fcmodel_requests

TIMEOUT = float(os.environ.get("FCSIM_TIMEOUT", "30"))
FAILED = []


def check(name, ok, detail=""):
    print(("ok    " if ok else "FAIL  ") + name + (": " + str(detail) if detail else ""), flush=True)
    if not ok:
        FAILED.append(name)
    return ok


def slash(url):
    return url if url.endswith("/") else url + "/"


class DataConfig:
    def __init__(self, url):
        self.url = slash(url)
        self.stream_url = slash(url)
        self.consumerID = os.environ.get("FCSIM_DATA_ID", "demo-data")
        self.consumerSecret = os.environ.get("FCSIM_DATA_SECRET", "demo-data-secret")
        self.auth_type = "Bearer"


def data_checks(today):
    config = DataConfig(os.environ["FCSIM_DATA_URL"])
    client = fc_md_client.MarketDataClient(config)
    check("fc-data token", bool(client._get_access_token()))

    sec = client.securities(config, model.securities("HOSE", 1, 100))
    rows = sec.get("data") or []
    check("fc-data Securities", sec.get("status") == "Success" and len(rows) > 0, sec.get("totalRecord"))
    symbol = rows[0]["Symbol"] if rows else "SSI"

    frm = (today - datetime.timedelta(days=20)).strftime("%d/%m/%Y")
    ohlc = client.daily_ohlc(config, model.daily_ohlc(symbol, frm, today.strftime("%d/%m/%Y"), 1, 100, True))
    bars = ohlc.get("data") or []
    check("fc-data DailyOhlc", ohlc.get("status") == "Success" and len(bars) > 5, "%d bars of %s" % (len(bars), symbol))

    got = threading.Event()
    first = {}

    def on_message(message):
        if not got.is_set():
            first["m"] = message
            got.set()

    def on_error(error):
        print("data stream error:", error, flush=True)

    stream = MarketDataStream(config, client)
    threading.Thread(target=lambda: stream.start(on_message, on_error, "X-TRADE:ALL"), daemon=True).start()
    got.wait(TIMEOUT)
    m = first.get("m") or {}
    check("fc-data stream X-TRADE:ALL message", got.is_set() and "Content" in m, str(m)[:120])
    return symbol, client, config


def trading_checks(today, symbol, data_client, data_config):
    url = slash(os.environ["FCSIM_TRADING_URL"])
    with open(os.environ["FCSIM_KEY_FILE"]) as f:
        key = f.read().strip()
    account = os.environ.get("FCSIM_ACCOUNT", "0001001")
    client = FCTradingClient(
        url,
        os.environ.get("FCSIM_TRADING_ID", "demo-trading"),
        os.environ.get("FCSIM_TRADING_SECRET", "demo-trading-secret"),
        key,
        0,
    )
    check("fc-trading read token (isSave=false)", bool(client.get_access_token()))
    writer = client.verifyCode(os.environ.get("FCSIM_PIN", "123456"))
    check("fc-trading writer token (PIN, isSave=true)", bool(writer))

    events = []
    cond = threading.Condition()

    def on_message(message):
        with cond:
            events.append(json.loads(message) if isinstance(message, str) else message)
            cond.notify_all()

    def on_error(error):
        print("trading stream error:", error, flush=True)

    opened = threading.Event()
    stream = FCTradingStream(client, url, on_message, on_error, "-1", on_open=opened.set)
    threading.Thread(target=stream.start, daemon=True).start()
    check("fc-trading stream connected", opened.wait(TIMEOUT))

    def wait_for(pred):
        deadline = datetime.datetime.now() + datetime.timedelta(seconds=TIMEOUT)
        with cond:
            while True:
                for e in events:
                    if pred(e):
                        return e
                left = (deadline - datetime.datetime.now()).total_seconds()
                if left <= 0:
                    return None
                cond.wait(left)

    day = today.strftime("%d/%m/%Y")
    price = data_client.daily_stock_price(data_config, model.daily_stock_price(symbol, day, day, 1, 10, ""))
    floor = float(price["data"][0]["FloorPrice"])
    request_id = str(random.randint(0, 99999999))
    order = fcmodel_requests.NewOrder(
        account, request_id, symbol, "VN", "B", "LO", floor, 100,
        deviceId=FCTradingClient.get_deviceid(), userAgent=FCTradingClient.get_user_agent(),
    )
    res = client.new_order(order)
    check("fc-trading signed NewOrder", res.get("status") == 200, res)
    ev = wait_for(lambda e: e.get("type") == "orderEvent" and str(e["data"].get("uniqueID")) == request_id)
    check("fc-trading orderEvent for the new order", ev is not None and ev["data"]["orderStatus"] == "QU", ev)
    if ev is None:
        return
    order_id = str(ev["data"]["orderID"])

    cancel_id = str(random.randint(0, 99999999))
    res = client.cancle_order(fcmodel_requests.CancelOrder(
        account, cancel_id, order_id, "VN", symbol, "B",
        deviceId=FCTradingClient.get_deviceid(), userAgent=FCTradingClient.get_user_agent(),
    ))
    check("fc-trading signed CancelOrder", res.get("status") == 200, res)
    ev = wait_for(lambda e: e.get("type") == "orderEvent" and str(e["data"].get("uniqueID")) == cancel_id)
    check("fc-trading orderEvent CL", ev is not None and ev["data"]["orderStatus"] == "CL", ev)

    hist = client.get_order_history(fcmodel_requests.OrderHistory(account, day, day))
    orders = (hist.get("data") or {}).get("orderHistories") or []
    mine = [o for o in orders if str(o.get("orderID")) == order_id]
    check("fc-trading orderHistory", hist.get("status") == 200 and len(mine) == 1 and mine[0]["orderStatus"] == "CL",
          mine[0] if mine else hist)

    cash_checks(client, account, day, wait_for)


def cash_checks(client, account, day, wait_for):
    """The SDK 2.5 cash, stock-transfer and rights methods (reference 5.7)."""
    other = os.environ.get("FCSIM_SECOND_ACCOUNT", "0001008")
    dev = {}

    def data(res):
        return (res or {}).get("data") or {}

    # A market sell of 100 SSI, so there are unsettled proceeds to advance.
    sell_id = str(random.randint(0, 99999999))
    res = client.new_order(fcmodel_requests.NewOrder(
        account, sell_id, "SSI", "VN", "S", "MTL", 0, 100,
        deviceId=FCTradingClient.get_deviceid(), userAgent=FCTradingClient.get_user_agent(),
    ))
    filled = wait_for(lambda e: e.get("type") == "orderEvent" and str(e["data"].get("uniqueID")) == sell_id
                      and e["data"]["orderStatus"] == "FF")
    check("fc-trading sell SSI filled", res.get("status") == 200 and filled is not None, res)
    bal = client.get_stock_account_balance(fcmodel_requests.StockAccountBalance(account))
    check("fc-trading cashAcctBal matchedSellVolume", data(bal).get("matchedSellVolume", 0) > 0, data(bal))

    amounts = client.get_cash_cia_amount(fcmodel_requests.CashInAdvanceAmount(account))
    rows = data(amounts).get("CIAAmounts") or []
    check("cash cashInAdvanceAmount", amounts.get("status") == 200 and len(rows) == 1 and rows[0]["CashAdvance"] > 0, amounts)
    advance = rows[0]["CashAdvance"] // 2 if rows else 0
    due = rows[0]["DueDate"] if rows else day
    unsettled = client.get_cash_unsettle_sold_transaction(fcmodel_requests.UnsettleSoldTransaction(account, due))
    sales = data(unsettled).get("orders") or []
    check("cash unsettleSoldTransaction", unsettled.get("status") == 200 and sum(o["Quantity"] for o in sales) == 100, unsettled)
    fee = client.get_cash_cia_est_fee(fcmodel_requests.CashInAdvanceEstFee(account, advance, 0))
    check("cash estCashInAdvanceFee", fee.get("status") == 200 and data(fee).get("fee", 0) > 0, fee)
    cia = client.create_cia(fcmodel_requests.CashCIA(account, advance, 0))
    check("cash createCashInAdvance (signed)", cia.get("status") == 200 and data(cia).get("transactionID"), cia)
    hist = client.get_cash_cia_history(fcmodel_requests.CashInAdvanceHistory(account, day, day))
    check("cash cashInAdvanceHistories", hist.get("status") == 200 and len(data(hist).get("CIAHistories") or []) == 1, hist)

    tr = client.create_cash_transfer(fcmodel_requests.CashTransfer(account, other, 1000000, "sdk conformance"))
    check("cash transferInternal (signed)", tr.get("status") == 200 and data(tr).get("transactionID"), tr)
    th = client.get_cash_transfer_history(fcmodel_requests.CashTransferHistory(account, day, day))
    check("cash transferHistories", th.get("status") == 200 and len(data(th).get("transferHistories") or []) == 1, th)
    vsd = client.create_cash_transfer_vsd(fcmodel_requests.CashTransferVSD(other, 1000, "D", ""))
    check("cash vsdCashDW refused with the envelope", vsd.get("status") == 400 and vsd.get("message"), vsd)

    st = client.get_stock_transferable(fcmodel_requests.StockTransferable(account))
    ssi = [r for r in data(st).get("transferableStocks") or [] if r["instrumentID"] == "SSI"]
    check("stock transferable", st.get("status") == 200 and ssi and ssi[0]["quantity"] > 0, st)
    moved = client.create_stock_transfer(fcmodel_requests.StockTransfer(account, other, "VN", "SSI", 100))
    check("stock transfer (signed)", moved.get("status") == 200 and data(moved).get("transactionID"), moved)
    sh = client.get_stock_transfer_history(fcmodel_requests.StockTransferHistory(other, day, day))
    check("stock transferHistories", sh.get("status") == 200 and len(data(sh).get("stockTransferHistories") or []) == 1, sh)

    div = client.get_ors_dividend(fcmodel_requests.OrsDividend(account))
    check("ors dividend", div.get("status") == 200 and data(div).get("dividends") == [], div)
    ex = client.get_ors_exercisable_quantity(fcmodel_requests.OrsExercisableQuantity(account))
    check("ors exercisableQuantity", ex.get("status") == 200 and data(ex).get("exercisableQuantities") == [], ex)
    oh = client.get_ors_history(fcmodel_requests.OrsHistory(account, day, day))
    check("ors histories", oh.get("status") == 200 and data(oh).get("onlineRightSubscriptionHistories") == [], oh)
    ors = client.create_ors(fcmodel_requests.Ors(account, "SSI", "1", 100, 1000000))
    check("ors create refused (no rights issue)", ors.get("status") == 400 and "does not exist" in (ors.get("message") or ""), ors)


def main():
    today = datetime.datetime.strptime(os.environ.get("FCSIM_DATE", "10/06/2025"), "%d/%m/%Y").date()
    symbol, data_client, data_config = data_checks(today)
    trading_checks(today, symbol, data_client, data_config)
    if FAILED:
        print("FAILED: " + ", ".join(FAILED), flush=True)
        os._exit(1)
    print("all SDK checks passed", flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
