package sources

// Site is a social network or a web mail service: a name and the host
// patterns of its pages and link redirectors (see the package documentation,
// "Host patterns").
type Site struct {
	Name  string
	Hosts []string
}

// Socials are the social networks, forums and messengers whose referrals
// have medium "social". Their link shorteners and redirectors (t.co,
// l.facebook.com, lnkd.in, out.reddit.com) count as the network.
var Socials = []Site{
	{"Facebook", []string{"*.facebook.com", "fb.me", "fb.com", "fb.watch", "m.me", "*.messenger.com"}},
	{"Instagram", []string{"*.instagram.com", "instagr.am"}},
	{"Twitter", []string{"*.twitter.com", "t.co", "x.com", "*.x.com"}},
	{"LinkedIn", []string{"*.linkedin.com", "lnkd.in"}},
	{"Reddit", []string{"*.reddit.com", "redd.it"}},
	{"YouTube", []string{"*.youtube.com", "youtu.be"}},
	{"Pinterest", []string{"*.pinterest.{tld}", "pin.it"}},
	{"TikTok", []string{"*.tiktok.com"}},
	{"VK", []string{"*.vk.com", "vk.ru", "vkontakte.ru", "vk.cc"}},
	{"Odnoklassniki", []string{"ok.ru", "odnoklassniki.ru"}},
	{"Weibo", []string{"*.weibo.com", "*.weibo.cn", "t.cn"}},
	{"WeChat", []string{"mp.weixin.qq.com", "weixin.qq.com"}},
	{"Qzone", []string{"qzone.qq.com", "user.qzone.qq.com"}},
	{"Douban", []string{"*.douban.com"}},
	{"Telegram", []string{"t.me", "telegram.me", "*.telegram.org"}},
	{"WhatsApp", []string{"*.whatsapp.com", "wa.me"}},
	{"Hacker News", []string{"news.ycombinator.com"}},
	{"Quora", []string{"*.quora.com"}},
	{"Tumblr", []string{"*.tumblr.com", "t.umblr.com"}},
	{"Threads", []string{"*.threads.net", "*.threads.com"}},
	{"Bluesky", []string{"*.bsky.app"}},
	{"Mastodon", []string{"mastodon.social", "mastodon.online", "mstdn.social"}},
	{"Discord", []string{"*.discord.com", "discordapp.com", "discord.gg"}},
	{"Snapchat", []string{"*.snapchat.com"}},
	{"Slack", []string{"*.slack.com"}},
	{"LINE", []string{"line.me", "lin.ee"}},
	{"KakaoTalk", []string{"story.kakao.com", "open.kakao.com"}},
	{"Naver Blog", []string{"blog.naver.com", "cafe.naver.com"}},
	{"XING", []string{"*.xing.com"}},
	{"Flickr", []string{"*.flickr.com", "flic.kr"}},
	{"Vimeo", []string{"vimeo.com"}},
	{"Twitch", []string{"*.twitch.tv"}},
	{"Medium", []string{"medium.com"}},
	{"Disqus", []string{"*.disqus.com", "disq.us"}},
	{"Workplace", []string{"*.workplace.com"}},
	{"Nextdoor", []string{"nextdoor.com"}},
	{"Stack Overflow", []string{"stackoverflow.com"}},
}

// Webmails are the web mail services whose referrals have medium "email".
// Besides these, a host whose first label is "webmail", "mail", "email",
// "owa" or "roundcube" (with at least two labels after it) is taken for a
// web mail of its own domain.
var Webmails = []Site{
	{"Gmail", []string{"mail.google.com", "inbox.google.com"}},
	{"Outlook.com", []string{"outlook.live.com", "*.mail.live.com", "outlook.office.com", "outlook.office365.com", "outlook.cloud.microsoft"}},
	{"Yahoo Mail", []string{"mail.yahoo.{tld}", "*.mail.yahoo.net", "*.mail.yahoo.com"}},
	{"AOL Mail", []string{"mail.aol.com"}},
	{"Proton Mail", []string{"mail.proton.me", "mail.protonmail.com"}},
	{"iCloud Mail", []string{"mail.icloud.com"}},
	{"Yandex Mail", []string{"mail.yandex.{tld}"}},
	{"Mail.ru", []string{"e.mail.ru", "touch.mail.ru", "octavius.mail.ru"}},
	{"Zoho Mail", []string{"mail.zoho.{tld}"}},
	{"GMX", []string{"deref-gmx.{tld}", "lightmailer.gmx.{tld}", "lightmailer-bs.gmx.net", "lightmailer-bap.gmx.net", "navigator.gmx.{tld}"}},
	{"Web.de", []string{"deref-web.de", "deref-web-02.de", "3c.web.de", "3c-bap.web.de", "lightmailer-bap.web.de", "lightmailer-bs.web.de", "navigator.web.de"}},
	{"Mail.com", []string{"deref-mail.com", "3c-lxa.mail.com", "lightmailer.mail.com"}},
	{"1&1", []string{"deref-1und1-02.de", "deref-1und1.de"}},
	{"IONOS", []string{"email.ionos.{tld}", "mailbusiness.ionos.{tld}"}},
	{"T-Online", []string{"email.t-online.de"}},
	{"Orange", []string{"wmail.orange.fr", "messagerie.orange.fr", "mail01.orange.fr", "mail02.orange.fr"}},
	{"Bluewin", []string{"email.bluewin.ch", "rich-v01.bluewin.ch", "rich-v02.bluewin.ch"}},
	{"Seznam Mail", []string{"email.seznam.cz"}},
	{"QQ Mail", []string{"mail.qq.com", "exmail.qq.com", "wx.mail.qq.com"}},
	{"163 Mail", []string{"mail.163.com"}},
	{"126 Mail", []string{"mail.126.com"}},
	{"Naver Mail", []string{"mail.naver.com"}},
	{"Daum Mail", []string{"mail.daum.net", "mail2.daum.net"}},
	{"Fastmail", []string{"app.fastmail.com", "fastmail.com"}},
	{"Tuta", []string{"mail.tutanota.com", "app.tuta.com"}},
	{"Rambler Mail", []string{"mail.rambler.ru"}},
	{"Ukr.net", []string{"mail.ukr.net"}},
	{"Poczta WP", []string{"poczta.wp.pl"}},
	{"Poczta Onet", []string{"poczta.onet.pl"}},
	{"Poczta Interia", []string{"poczta.interia.pl"}},
	{"Poczta O2", []string{"poczta.o2.pl"}},
	{"Libero Mail", []string{"mail.libero.it"}},
}

// App is an Android app whose referrals arrive as
// "android-app://<Package>/...".
type App struct {
	Package string
	Name    string
	Medium  string
}

// Apps are the Android apps known by package. Another app's referrals are
// referrals with the package name as source.
var Apps = []App{
	{"com.google.android.googlequicksearchbox", "Google", MediumSearch},
	{"com.google.android.gm", "Gmail", MediumEmail},
	{"com.google.android.gm.lite", "Gmail", MediumEmail},
	{"com.microsoft.office.outlook", "Outlook.com", MediumEmail},
	{"com.yahoo.mobile.client.android.mail", "Yahoo Mail", MediumEmail},
	{"com.aol.mobile.aolapp", "AOL Mail", MediumEmail},
	{"ru.mail.mailapp", "Mail.ru", MediumEmail},
	{"com.facebook.katana", "Facebook", MediumSocial},
	{"com.facebook.lite", "Facebook", MediumSocial},
	{"com.facebook.orca", "Facebook", MediumSocial},
	{"com.instagram.android", "Instagram", MediumSocial},
	{"com.instagram.barcelona", "Threads", MediumSocial},
	{"com.twitter.android", "Twitter", MediumSocial},
	{"com.linkedin.android", "LinkedIn", MediumSocial},
	{"com.reddit.frontpage", "Reddit", MediumSocial},
	{"com.pinterest", "Pinterest", MediumSocial},
	{"com.google.android.youtube", "YouTube", MediumSocial},
	{"com.zhiliaoapp.musically", "TikTok", MediumSocial},
	{"com.ss.android.ugc.trill", "TikTok", MediumSocial},
	{"com.vkontakte.android", "VK", MediumSocial},
	{"org.telegram.messenger", "Telegram", MediumSocial},
	{"com.whatsapp", "WhatsApp", MediumSocial},
	{"com.slack", "Slack", MediumSocial},
	{"com.discord", "Discord", MediumSocial},
	{"com.snapchat.android", "Snapchat", MediumSocial},
	{"jp.naver.line.android", "LINE", MediumSocial},
	{"com.tumblr", "Tumblr", MediumSocial},
	{"xyz.blueskyweb.app", "Bluesky", MediumSocial},
	{"com.quora.android", "Quora", MediumSocial},
}
