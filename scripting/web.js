// URL, URLSearchParams, TextEncoder and TextDecoder, as the WHATWG URL
// and Encoding standards define them. Parsing, encoding and decoding are
// done in Go (native); this file gives them their JavaScript shape. It is
// compiled once; a runtime runs it when its script first reads one of
// them, and defines only the classes asked for (makers), since each class
// is dozens of function objects.
(function (native) {
  "use strict";
  const U8 = Uint8Array, AB = ArrayBuffer, isView = ArrayBuffer.isView;

  const str = (v) => {
    if (typeof v === "symbol") throw new TypeError("Cannot convert a Symbol value to a string");
    return String(v);
  };
  const need = (n, args, what) => {
    if (args.length < n) throw new TypeError(what + ": " + n + " argument" + (n > 1 ? "s" : "") + " required, but only " + args.length + " present.");
  };

  function makeURL() {
    const internal = {}; // passed by URL to make a URLSearchParams it owns
    let resetList; // URLSearchParams' list from a query, for URL's setters

    class URLSearchParams {
      #list = []; // name, value, name, value...
      #onchange = null;

      constructor(init = "", key = undefined, onchange = undefined) {
        if (key === internal) {
          this.#list = native.formParse(init);
          this.#onchange = onchange;
          return;
        }
        if (init !== null && typeof init === "object" || typeof init === "function") {
          if (typeof init[Symbol.iterator] === "function") {
            for (const pair of init) {
              if (pair === null || typeof pair !== "object" && typeof pair !== "function") {
                throw new TypeError("URLSearchParams: each pair must be an iterable of [name, value]");
              }
              const p = []; // not Array.from, which would walk an array-like of any length
              for (const x of pair) {
                if (p.length === 2) throw new TypeError("URLSearchParams: each pair must have exactly 2 elements, got more");
                p.push(x);
              }
              if (p.length !== 2) throw new TypeError("URLSearchParams: each pair must have exactly 2 elements, got " + p.length);
              this.#list.push(str(p[0]), str(p[1]));
            }
          } else {
            for (const k of Object.keys(init)) this.#list.push(k, str(init[k]));
          }
          return;
        }
        let s = str(init);
        if (s[0] === "?") s = s.slice(1);
        this.#list = native.formParse(s);
      }

      #update() {
        if (this.#onchange) this.#onchange(this.toString());
      }

      get size() { return this.#list.length / 2; }

      append(name, value) {
        need(2, arguments, "URLSearchParams.append");
        this.#list.push(str(name), str(value));
        this.#update();
      }

      delete(name, value) {
        need(1, arguments, "URLSearchParams.delete");
        name = str(name);
        const l = this.#list, out = [], any = value === undefined;
        if (!any) value = str(value);
        for (let i = 0; i < l.length; i += 2) {
          if (l[i] !== name || !any && l[i + 1] !== value) out.push(l[i], l[i + 1]);
        }
        this.#list = out;
        this.#update();
      }

      get(name) {
        need(1, arguments, "URLSearchParams.get");
        name = str(name);
        const l = this.#list;
        for (let i = 0; i < l.length; i += 2) if (l[i] === name) return l[i + 1];
        return null;
      }

      getAll(name) {
        need(1, arguments, "URLSearchParams.getAll");
        name = str(name);
        const l = this.#list, out = [];
        for (let i = 0; i < l.length; i += 2) if (l[i] === name) out.push(l[i + 1]);
        return out;
      }

      has(name, value) {
        need(1, arguments, "URLSearchParams.has");
        name = str(name);
        const l = this.#list, any = value === undefined;
        if (!any) value = str(value);
        for (let i = 0; i < l.length; i += 2) {
          if (l[i] === name && (any || l[i + 1] === value)) return true;
        }
        return false;
      }

      set(name, value) {
        need(2, arguments, "URLSearchParams.set");
        name = str(name);
        value = str(value);
        const l = this.#list, out = [];
        let found = false;
        for (let i = 0; i < l.length; i += 2) {
          if (l[i] !== name) out.push(l[i], l[i + 1]);
          else if (!found) out.push(name, value), found = true;
        }
        if (!found) out.push(name, value);
        this.#list = out;
        this.#update();
      }

      sort() {
        const l = this.#list, pairs = [];
        for (let i = 0; i < l.length; i += 2) pairs.push([l[i], l[i + 1]]);
        // A stable sort by name in code units, as the standard asks.
        pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
        this.#list = [];
        for (const p of pairs) this.#list.push(p[0], p[1]);
        this.#update();
      }

      forEach(callback, thisArg = undefined) {
        if (typeof callback !== "function") throw new TypeError("URLSearchParams.forEach: the callback is not a function");
        for (let i = 0; i < this.#list.length; i += 2) {
          callback.call(thisArg, this.#list[i + 1], this.#list[i], this);
        }
      }

      *entries() {
        for (let i = 0; i < this.#list.length; i += 2) yield [this.#list[i], this.#list[i + 1]];
      }

      *keys() {
        for (let i = 0; i < this.#list.length; i += 2) yield this.#list[i];
      }

      *values() {
        for (let i = 0; i < this.#list.length; i += 2) yield this.#list[i + 1];
      }

      [Symbol.iterator]() { return this.entries(); }

      toString() { return native.formSerialize(this.#list); }

      static {
        resetList = (p, query) => { p.#list = native.formParse(query); };
      }
  }
  Object.defineProperty(URLSearchParams.prototype, Symbol.toStringTag, {value: "URLSearchParams", configurable: true});

  class URL {
    #r; // the parsed URL: href, protocol, username, ..., from native.parse
    #params = null;

    constructor(url, base = undefined) {
      need(1, arguments, "URL");
      this.#r = native.parse(str(url), base === undefined ? undefined : str(base), true);
    }

    static canParse(url, base = undefined) {
      need(1, arguments, "URL.canParse");
      return native.parse(str(url), base === undefined ? undefined : str(base), false) !== null;
    }

    static parse(url, base = undefined) {
      need(1, arguments, "URL.parse");
      return URL.canParse(url, base) ? new URL(url, base) : null;
    }

    #set(field, value) {
      const r = native.set(this.#r.href, field, str(value));
      if (r === null) return; // an invalid value is ignored, as in browsers
      this.#r = r;
      if (this.#params && (field === "href" || field === "search")) resetList(this.#params, r.search.slice(1));
    }

    get href() { return this.#r.href; }
    set href(v) {
      const r = native.parse(str(v), undefined, true); // an invalid href throws
      this.#r = r;
      if (this.#params) resetList(this.#params, r.search.slice(1));
    }
    get origin() { return this.#r.origin; }
    get protocol() { return this.#r.protocol; }
    set protocol(v) { this.#set("protocol", v); }
    get username() { return this.#r.username; }
    set username(v) { this.#set("username", v); }
    get password() { return this.#r.password; }
    set password(v) { this.#set("password", v); }
    get host() { return this.#r.host; }
    set host(v) { this.#set("host", v); }
    get hostname() { return this.#r.hostname; }
    set hostname(v) { this.#set("hostname", v); }
    get port() { return this.#r.port; }
    set port(v) { this.#set("port", v); }
    get pathname() { return this.#r.pathname; }
    set pathname(v) { this.#set("pathname", v); }
    get search() { return this.#r.search; }
    set search(v) { this.#set("search", v); }
    get hash() { return this.#r.hash; }
    set hash(v) { this.#set("hash", v); }
    get searchParams() {
      if (!this.#params) {
        this.#params = new URLSearchParams(this.#r.search.slice(1), internal, (query) => {
          this.#r = native.set(this.#r.href, "search", query) || this.#r;
        });
      }
      return this.#params;
    }
    toString() { return this.#r.href; }
    toJSON() { return this.#r.href; }
  }
  Object.defineProperty(URL.prototype, Symbol.toStringTag, {value: "URL", configurable: true});
  return {URL, URLSearchParams};
  }

  function makeTextEncoder() {

    class TextEncoder {
      get encoding() { return "utf-8"; }
      encode(input = "") { return new U8(native.encode(str(input))); }
      encodeInto(source, destination) {
        need(2, arguments, "TextEncoder.encodeInto");
        if (!(destination instanceof U8)) throw new TypeError("TextEncoder.encodeInto: the destination is not a Uint8Array");
        return native.encodeInto(str(source), destination);
      }
  }
  Object.defineProperty(TextEncoder.prototype, Symbol.toStringTag, {value: "TextEncoder", configurable: true});
  return {TextEncoder};
  }

  function makeTextDecoder() {

    const utf8Labels = ["unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8", "x-unicode20utf8"];

    class TextDecoder {
      #fatal;
      #ignoreBOM;

      constructor(label = "utf-8", options = undefined) {
        const l = str(label).trim().toLowerCase();
        if (!utf8Labels.includes(l)) throw new RangeError("TextDecoder: the encoding \"" + str(label) + "\" is not supported (only utf-8 is)");
        const o = options == null ? {} : options;
        this.#fatal = !!o.fatal;
        this.#ignoreBOM = !!o.ignoreBOM;
      }

      get encoding() { return "utf-8"; }
      get fatal() { return this.#fatal; }
      get ignoreBOM() { return this.#ignoreBOM; }

      decode(input = undefined, options = undefined) {
        if (options != null && options.stream) throw new TypeError("TextDecoder.decode: streaming is not supported");
        if (input === undefined) return "";
        let bytes;
        if (input instanceof AB) bytes = new U8(input);
        else if (isView(input)) bytes = new U8(input.buffer, input.byteOffset, input.byteLength);
        else throw new TypeError("TextDecoder.decode: the input must be an ArrayBuffer, a typed array or a DataView");
        return native.decode(bytes, this.#fatal, this.#ignoreBOM);
      }
  }
  Object.defineProperty(TextDecoder.prototype, Symbol.toStringTag, {value: "TextDecoder", configurable: true});

  return {TextDecoder};
  }

  return {URL: makeURL, URLSearchParams: makeURL, TextEncoder: makeTextEncoder, TextDecoder: makeTextDecoder};
})
