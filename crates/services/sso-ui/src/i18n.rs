//! Every string of the pages, in English and Vietnamese. A template reads them as `t.<key>`;
//! an error is a key whose text may hold `{min}`.

use std::collections::BTreeMap;

use crate::domain::Lang;

/// `(key, English, Vietnamese)`.
const STRINGS: &[(&str, &str, &str)] = &[
    ("lang_name", "English", "Tiếng Việt"),
    ("switch_to", "Tiếng Việt", "English"),
    ("switch_label", "Đọc bằng tiếng Việt", "Read in English"),
    ("skip", "Skip to the content", "Chuyển đến nội dung chính"),
    ("login_title", "Sign in", "Đăng nhập"),
    ("username", "User name", "Tên đăng nhập"),
    ("password", "Password", "Mật khẩu"),
    ("sign_in", "Sign in", "Đăng nhập"),
    ("no_account", "No account yet?", "Chưa có tài khoản?"),
    ("register_link", "Register", "Đăng ký"),
    ("forgot_link", "Forgot your password?", "Quên mật khẩu?"),
    (
        "second_title",
        "Two-factor authentication",
        "Xác thực hai yếu tố",
    ),
    (
        "second_intro",
        "Enter the 6-digit code your authenticator app shows, or one of your recovery codes.",
        "Nhập mã 6 chữ số mà ứng dụng xác thực hiển thị, hoặc một trong các mã khôi phục của bạn.",
    ),
    ("totp_code", "Authenticator code", "Mã xác thực"),
    (
        "recovery_hint",
        "Lost your device? Use a recovery code instead.",
        "Mất thiết bị? Hãy dùng mã khôi phục.",
    ),
    ("recovery_code", "Recovery code", "Mã khôi phục"),
    ("verify", "Verify", "Xác minh"),
    ("start_again", "Start again", "Bắt đầu lại"),
    ("register_title", "Create an account", "Tạo tài khoản"),
    ("email", "E-mail address", "Địa chỉ e-mail"),
    ("new_password", "New password", "Mật khẩu mới"),
    (
        "confirm_password",
        "Repeat the new password",
        "Nhập lại mật khẩu mới",
    ),
    (
        "password_hint",
        "A long passphrase (at least 10 characters) that is not your user name.",
        "Một cụm mật khẩu dài (ít nhất 10 ký tự), khác với tên đăng nhập.",
    ),
    (
        "username_hint",
        "3 to 64 characters: lower-case letters, digits, dot, underscore or hyphen.",
        "3 đến 64 ký tự: chữ thường, chữ số, dấu chấm, gạch dưới hoặc gạch ngang.",
    ),
    ("register_submit", "Register", "Đăng ký"),
    (
        "have_account",
        "Already have an account?",
        "Đã có tài khoản?",
    ),
    ("reset_title", "Reset your password", "Đặt lại mật khẩu"),
    (
        "reset_intro",
        "Enter your user name or e-mail address and we will send you a link to choose a new password.",
        "Nhập tên đăng nhập hoặc địa chỉ e-mail, chúng tôi sẽ gửi cho bạn liên kết để chọn mật khẩu mới.",
    ),
    (
        "username_or_email",
        "User name or e-mail address",
        "Tên đăng nhập hoặc địa chỉ e-mail",
    ),
    ("reset_send", "Send the link", "Gửi liên kết"),
    (
        "reset_sent",
        "If an account matches, a message with a reset link is on its way. The link works once and for a limited time.",
        "Nếu có tài khoản phù hợp, một tin nhắn kèm liên kết đặt lại mật khẩu đang được gửi đến bạn. Liên kết chỉ dùng được một lần và trong thời gian giới hạn.",
    ),
    (
        "reset_confirm_title",
        "Choose a new password",
        "Chọn mật khẩu mới",
    ),
    ("reset_confirm_submit", "Set the password", "Đặt mật khẩu"),
    (
        "reset_done",
        "Your password has been changed. Sign in with the new one.",
        "Mật khẩu của bạn đã được thay đổi. Hãy đăng nhập bằng mật khẩu mới.",
    ),
    ("back_to_login", "Go to sign in", "Đến trang đăng nhập"),
    ("account_title", "Your account", "Tài khoản của bạn"),
    ("signed_in_as", "Signed in as", "Đang đăng nhập với tên"),
    ("roles", "Roles", "Vai trò"),
    ("accounts", "Broker accounts", "Tài khoản giao dịch"),
    ("none", "none", "không có"),
    (
        "change_password_title",
        "Change your password",
        "Đổi mật khẩu",
    ),
    ("current_password", "Current password", "Mật khẩu hiện tại"),
    (
        "change_password_submit",
        "Change the password",
        "Đổi mật khẩu",
    ),
    (
        "change_password_note",
        "Every session of yours ends: you sign in again afterwards.",
        "Mọi phiên đăng nhập của bạn sẽ kết thúc: sau đó bạn cần đăng nhập lại.",
    ),
    (
        "password_changed",
        "Your password has been changed. Sign in again with the new one.",
        "Mật khẩu đã được thay đổi. Hãy đăng nhập lại bằng mật khẩu mới.",
    ),
    (
        "totp_enrol_intro",
        "Protect your account with a code from an authenticator app in addition to your password.",
        "Bảo vệ tài khoản bằng mã từ ứng dụng xác thực, ngoài mật khẩu của bạn.",
    ),
    (
        "totp_enrol_submit",
        "Turn on two-factor authentication",
        "Bật xác thực hai yếu tố",
    ),
    (
        "totp_scan",
        "Scan this QR code with your authenticator app, or type the secret into it, then enter the code it shows.",
        "Quét mã QR này bằng ứng dụng xác thực, hoặc nhập khóa bí mật vào ứng dụng, rồi nhập mã mà ứng dụng hiển thị.",
    ),
    ("totp_secret", "Secret", "Khóa bí mật"),
    (
        "qr_label",
        "QR code of the authenticator setup link",
        "Mã QR của liên kết thiết lập ứng dụng xác thực",
    ),
    ("totp_confirm_submit", "Confirm", "Xác nhận"),
    (
        "recovery_title",
        "Your recovery codes",
        "Mã khôi phục của bạn",
    ),
    (
        "recovery_intro",
        "Two-factor authentication is on. Keep these codes somewhere safe: each signs you in once if you lose your device. They are shown only this once.",
        "Xác thực hai yếu tố đã được bật. Hãy cất giữ các mã này ở nơi an toàn: mỗi mã giúp bạn đăng nhập một lần nếu mất thiết bị. Các mã chỉ được hiển thị lần này.",
    ),
    ("continue", "Continue", "Tiếp tục"),
    (
        "totp_disable_title",
        "Turn off two-factor authentication",
        "Tắt xác thực hai yếu tố",
    ),
    ("totp_disable_submit", "Turn off", "Tắt"),
    (
        "totp_disabled",
        "Two-factor authentication is off.",
        "Đã tắt xác thực hai yếu tố.",
    ),
    ("logout", "Sign out", "Đăng xuất"),
    ("signed_out", "You have signed out.", "Bạn đã đăng xuất."),
    (
        "error_summary",
        "There is a problem",
        "Có lỗi cần khắc phục",
    ),
    ("notice", "Notice", "Thông báo"),
    ("forbidden_title", "Request refused", "Yêu cầu bị từ chối"),
    (
        "csrf_failed",
        "This form has expired or was not sent from this site. Go back, reload the page and try again.",
        "Biểu mẫu này đã hết hạn hoặc không được gửi từ trang này. Hãy quay lại, tải lại trang và thử lại.",
    ),
    (
        "session_expired",
        "Your session has ended. Please sign in again.",
        "Phiên đăng nhập đã kết thúc. Vui lòng đăng nhập lại.",
    ),
    (
        "err_required",
        "Enter this field.",
        "Vui lòng nhập trường này.",
    ),
    ("err_too_long", "This is too long.", "Nội dung quá dài."),
    (
        "err_credentials",
        "Wrong user name or password.",
        "Sai tên đăng nhập hoặc mật khẩu.",
    ),
    (
        "err_locked",
        "This account is locked after too many failed sign-ins. Try again later or reset your password.",
        "Tài khoản đã bị khóa do đăng nhập sai quá nhiều lần. Hãy thử lại sau hoặc đặt lại mật khẩu.",
    ),
    (
        "err_disabled",
        "This account is disabled. Contact an administrator.",
        "Tài khoản đã bị vô hiệu hóa. Hãy liên hệ quản trị viên.",
    ),
    (
        "err_throttled",
        "Too many attempts. Wait a minute and try again.",
        "Quá nhiều lần thử. Hãy đợi một phút rồi thử lại.",
    ),
    (
        "err_totp_wrong",
        "Wrong or already used code.",
        "Mã sai hoặc đã được sử dụng.",
    ),
    (
        "err_totp_format",
        "Enter the 6 digits your app shows.",
        "Nhập 6 chữ số mà ứng dụng hiển thị.",
    ),
    (
        "err_code_needed",
        "Enter the authenticator code or a recovery code.",
        "Nhập mã xác thực hoặc mã khôi phục.",
    ),
    (
        "err_recovery_wrong",
        "Wrong or already used recovery code.",
        "Mã khôi phục sai hoặc đã được sử dụng.",
    ),
    (
        "err_unavailable",
        "The sign-in service is not available right now. Try again shortly.",
        "Dịch vụ đăng nhập hiện không khả dụng. Vui lòng thử lại sau ít phút.",
    ),
    (
        "err_username_invalid",
        "Use 3 to 64 characters: lower-case letters, digits, dot, underscore or hyphen.",
        "Dùng 3 đến 64 ký tự: chữ thường, chữ số, dấu chấm, gạch dưới hoặc gạch ngang.",
    ),
    (
        "err_username_taken",
        "This user name is taken.",
        "Tên đăng nhập này đã được sử dụng.",
    ),
    (
        "err_email_invalid",
        "Enter a valid e-mail address.",
        "Nhập địa chỉ e-mail hợp lệ.",
    ),
    (
        "err_password_length",
        "The password must have {min} to 128 characters.",
        "Mật khẩu phải có từ {min} đến 128 ký tự.",
    ),
    (
        "err_password_username",
        "The password must not be your user name.",
        "Mật khẩu không được trùng với tên đăng nhập.",
    ),
    (
        "err_password_repeated",
        "The password must not be one character repeated.",
        "Mật khẩu không được chỉ gồm một ký tự lặp lại.",
    ),
    (
        "err_password_weak",
        "This password is not accepted.",
        "Mật khẩu này không được chấp nhận.",
    ),
    (
        "err_password_mismatch",
        "The two passwords differ.",
        "Hai mật khẩu không khớp.",
    ),
    (
        "err_registration_closed",
        "Registration is closed. Ask an administrator for an account.",
        "Chức năng đăng ký đang đóng. Hãy liên hệ quản trị viên để được cấp tài khoản.",
    ),
    (
        "err_current_password",
        "The current password is wrong.",
        "Mật khẩu hiện tại không đúng.",
    ),
    (
        "err_reset_token",
        "This reset link is unknown, already used or expired. Ask for a new one.",
        "Liên kết đặt lại không hợp lệ, đã được sử dụng hoặc đã hết hạn. Hãy yêu cầu liên kết mới.",
    ),
    (
        "err_reset_throttled",
        "Too many reset requests in an hour. Try again later.",
        "Quá nhiều yêu cầu đặt lại trong một giờ. Hãy thử lại sau.",
    ),
    (
        "err_totp_on",
        "Two-factor authentication is already on.",
        "Xác thực hai yếu tố đã được bật.",
    ),
    (
        "err_totp_off",
        "Two-factor authentication is not on.",
        "Xác thực hai yếu tố chưa được bật.",
    ),
    (
        "err_totp_confirm",
        "That is not the current code: check your device's clock and try again.",
        "Đây không phải mã hiện tại: hãy kiểm tra đồng hồ của thiết bị và thử lại.",
    ),
    (
        "err_wrong_password",
        "The password is wrong.",
        "Mật khẩu không đúng.",
    ),
    (
        "err_second_expired",
        "The sign-in took too long. Please start again.",
        "Quá thời gian đăng nhập. Vui lòng bắt đầu lại.",
    ),
    (
        "err_generic",
        "Something went wrong. Please try again.",
        "Đã có lỗi xảy ra. Vui lòng thử lại.",
    ),
];

/// Every string in one language, by key.
pub(crate) fn table(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    STRINGS
        .iter()
        .map(|(k, en, vi)| {
            (
                *k,
                match lang {
                    Lang::En => *en,
                    Lang::Vi => *vi,
                },
            )
        })
        .collect()
}

/// The text of `key` in `lang` (the key itself if unknown, which a test forbids).
pub(crate) fn text(lang: Lang, key: &str) -> &'static str {
    STRINGS
        .iter()
        .find(|(k, ..)| *k == key)
        .map_or("", |(_, en, vi)| match lang {
            Lang::En => en,
            Lang::Vi => vi,
        })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_key_is_unique_and_translated() {
        let mut seen = BTreeSet::new();
        for (k, en, vi) in STRINGS {
            assert!(seen.insert(*k), "{k} twice");
            assert!(!en.is_empty() && !vi.is_empty(), "{k} untranslated");
        }
    }

    #[test]
    fn every_key_a_template_or_the_code_uses_exists() {
        let templates = [
            include_str!("templates/base.html"),
            include_str!("templates/login.html"),
            include_str!("templates/second.html"),
            include_str!("templates/register.html"),
            include_str!("templates/reset.html"),
            include_str!("templates/reset_confirm.html"),
            include_str!("templates/account.html"),
            include_str!("templates/totp_enrol.html"),
            include_str!("templates/recovery.html"),
            include_str!("templates/message.html"),
            include_str!("templates/macros.html"),
        ];
        let code = [include_str!("http.rs"), include_str!("service.rs")];
        let keys: BTreeSet<&str> = STRINGS.iter().map(|(k, ..)| *k).collect();
        for src in templates {
            for (i, _) in src.match_indices("t.") {
                let rest = &src[i + 2..];
                let key: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                let before = src[..i].chars().last().unwrap_or(' ');
                if key.is_empty() || before.is_alphanumeric() || before == '_' {
                    continue;
                }
                assert!(keys.contains(key.as_str()), "t.{key} has no text");
            }
        }
        for src in code {
            for (i, _) in src.match_indices("\"err_") {
                let key: String = src[i + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                assert!(keys.contains(key.as_str()), "{key} has no text");
            }
        }
    }
}
