// When a webhook is created, Asana POSTs a request with an X-Hook-Secret
// header and wants it back in the answer's X-Hook-Secret, with a 200. The
// secret then signs every event (X-Hook-Signature): this request is kept
// as a SUCCESS message whose headers hold it.
const secret = HTTP_HEADERS["x-hook-secret"];
if (!secret || HTTP_HEADERS["x-hook-signature"]) return;
RESPONSE.headers = { "X-Hook-Secret": secret };
RESPONSE.status = 200;
