/* XLSForm expressions in the browser: the evaluator of lmreview/questionnaire/expressions.py, with the same
 * semantics and the same error messages, so a form shows and hides questions live exactly as the server decides.
 * Both must pass tests/fixtures/expressions/cases.json: change one, change the other. The decisions on ODK
 * semantics (full-match regex(), ISO dates compare and subtract as days, ...) are listed in the Python module.
 * regex() accepts only the dialect the server's RE2 runs too (no look-ahead, counts up to 1000): the server never
 * backtracks; here RegExp does, but only in the respondent's own page.
 *
 * Plain ES2020, no dependencies:  const e = LmExpr.parse("${age} >= 18");
 *                                 LmExpr.truthy(LmExpr.evaluate(e, {age: "20"}));   // true
 */
(function (root) {
  "use strict";

  const MAX_NESTING = 100;

  class ExpressionError extends Error {
    /** `position` is the 0-based offset of the fault in characters (code points, as in Python). */
    constructor(what, text, index, hint) {
      const position = Array.from(text.slice(0, index)).length;
      super(what + (text ? ` at character ${position + 1} in "${text}"` : "") + (hint ? `: ${hint}` : ""));
      this.name = "ExpressionError";
      this.text = text;
      this.position = position;
    }
  }

  // --- tokenizer ------------------------------------------------------------------------------------------------

  const TOKEN = new RegExp(
    "([ \\t\\r\\n]+)|([0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)|('[^']*'|\"[^\"]*\")|(!=|<=|>=|[=<>+\\-*(),])|(\\.\\.?)" +
      "|([A-Za-z_][A-Za-z0-9_.\\-]*(?::[A-Za-z_][A-Za-z0-9_.\\-]*)?)",
    "y"
  );
  const KINDS = [null, "ws", "num", "str", "op", "dot", "name"];
  const REF_BODY = /[^}\r\n'"(),=<>!+*$]*/y;
  const QUESTION_NAME = /^[A-Za-z_\u{C0}-\u{10FFFF}][A-Za-z0-9_.\-\u{B7}\u{C0}-\u{10FFFF}]*$/u;
  const CHAR_HINTS = {
    "/": "refer to questions as ${name}, not by path",
    "[": "predicates [...] are not supported",
    "]": "predicates [...] are not supported",
    "|": "the union operator | is not supported",
    $: "refer to a question as ${name}",
  };
  const BINARY = { or: 1, and: 2, "=": 3, "!=": 3, "<": 4, "<=": 4, ">": 4, ">=": 4, "+": 5, "-": 5 };
  Object.assign(BINARY, { "*": 6, div: 6, mod: 6 });
  const UNARY_BP = 7;
  const OPERATOR_NAMES = ["and", "or", "div", "mod"];

  function tokenize(text) {
    const tokens = [];
    let i = 0;
    while (i < text.length) {
      if (text.startsWith("${", i)) {
        REF_BODY.lastIndex = i + 2;
        const name = REF_BODY.exec(text)[0];
        const close = i + 2 + name.length;
        if (!text.startsWith("}", close)) {
          throw new ExpressionError("missing closing } for the reference starting", text, i);
        }
        // ${last-saved#q}: the answer to q in the respondent's previous submission, given to the page like an answer
        const bare = name.startsWith("last-saved#") ? name.slice("last-saved#".length) : name;
        if (!QUESTION_NAME.test(bare)) throw new ExpressionError(`invalid question name "\${${name}}"`, text, i);
        tokens.push({ kind: "ref", text: name, position: i });
        i = close + 1;
        continue;
      }
      TOKEN.lastIndex = i;
      const m = TOKEN.exec(text);
      if (m === null && "/[]".includes(text[i]) && text.slice(0, i).includes("instance(")) {
        tokens.push({ kind: "path", text: text[i], position: i }); // a path after instance('name')
        i += 1;
        continue;
      }
      if (m === null) {
        const ch = String.fromCodePoint(text.codePointAt(i));
        if (ch === "'" || ch === '"') {
          throw new ExpressionError(`missing closing ${ch} for the string starting`, text, i);
        }
        throw new ExpressionError(`unexpected character "${ch}"`, text, i, CHAR_HINTS[ch] || "");
      }
      let kind = KINDS[m.findIndex((g, n) => n > 0 && g !== undefined)];
      if (kind === "dot" && m[0] === "..") {
        // `..` only as the argument of position(..); the parser checks that the ")" follows
        const [name, opening] = tokens.length >= 2 ? tokens.slice(-2) : [{}, {}];
        if (!(name.kind === "name" && name.text === "position" && opening.kind === "op" && opening.text === "(")) {
          throw new ExpressionError('the parent reference ".." is not supported', text, i);
        }
        kind = "parent";
      }
      if (kind !== "ws") tokens.push({ kind, text: m[0], position: i });
      i += m[0].length;
    }
    tokens.push({ kind: "end", text: "", position: text.length });
    return tokens;
  }

  // --- functions: name -> [fewest, most arguments; -1 = any number] ----------------------------------------------

  const ARITY = {
    selected: [2, 2], "count-selected": [1, 1], "selected-at": [2, 2], not: [1, 1], true: [0, 0], false: [0, 0],
    boolean: [1, 1], "boolean-from-string": [1, 1], number: [0, 1], int: [1, 1], string: [0, 1],
    "string-length": [0, 1], concat: [1, -1], join: [1, -1], contains: [2, 2], "starts-with": [2, 2],
    "ends-with": [2, 2], substr: [2, 3], "substring-before": [2, 2], "substring-after": [2, 2], translate: [3, 3],
    "normalize-space": [0, 1], regex: [2, 2], if: [3, 3], coalesce: [2, 2], once: [1, 1], count: [1, 1],
    "count-non-empty": [1, 1], sum: [1, 1], max: [1, -1], min: [1, -1], abs: [1, 1], round: [1, 2], today: [0, 0],
    date: [1, 1], "decimal-date-time": [1, 1], position: [1, 1], "indexed-repeat": [3, -1], pow: [2, 2],
    log: [1, 1], log10: [1, 1], exp: [1, 1], exp10: [1, 1], sqrt: [1, 1], sin: [1, 1], cos: [1, 1], tan: [1, 1],
    asin: [1, 1], acos: [1, 1], atan: [1, 1], atan2: [2, 2], pi: [0, 0], floor: [1, 1], ceiling: [1, 1],
    random: [0, 0], now: [0, 0], "format-date": [2, 2], "format-date-time": [2, 2], pulldata: [4, 4],
    instance: [1, 1], uuid: [0, 0],
  };
  const INSTANCE_HINT = "write instance('list')/root/item[name = ${question}]/label";
  const INSTANCE_ONLY = "only instance('name')/root/item[...]/column is supported";
  const PREDICATE_HINT = "only instance('name')/root/item[...]/column takes a predicate";
  const NODESET_ARG = ["count", "count-non-empty", "sum"];
  const POSITION_HINT = "write position(..) for the number of the current repeat instance";
  const INDEXED_REPEAT_ARITY =
    "3, 5, 7, ... arguments (a question, then a repeat and an index for each level of repeat)";
  const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

  function arityText(low, high) {
    const s = (n) => (n !== 1 ? "s" : "");
    if (high < 0) return `at least ${low} argument${s(low)}`;
    if (low === high) return low === 0 ? "no arguments" : `${low} argument${s(low)}`;
    return high === low + 1 ? `${low} or ${high} arguments` : `${low} to ${high} arguments`;
  }

  // --- parser (Pratt) -------------------------------------------------------------------------------------------

  class Parser {
    constructor(text, names) {
      this.text = text;
      this.names = names;
      this.tokens = tokenize(text);
      this.i = 0;
      this.depth = 0;
    }

    peek() {
      return this.tokens[this.i];
    }

    /** The next token; "(", ")", "," and "-" are told by their text alone (strings keep their quotes). */
    take() {
      const token = this.tokens[this.i];
      this.i = Math.min(this.i + 1, this.tokens.length - 1);
      return token;
    }

    unexpected(token, hint) {
      if (token.kind === "path") {
        const pathHint = token.text === "/" ? CHAR_HINTS["/"] : PREDICATE_HINT;
        return new ExpressionError(`unexpected character "${token.text}"`, this.text, token.position, pathHint);
      }
      const what = token.kind === "end" ? "unexpected end of the expression" : `unexpected "${token.text}"`;
      return new ExpressionError(what, this.text, token.position, hint);
    }

    binaryOp(token) {
      if (token.kind === "op" || (token.kind === "name" && OPERATOR_NAMES.includes(token.text))) {
        return has(BINARY, token.text) ? token.text : null;
      }
      return null;
    }

    expression(minBp = 0) {
      this.depth += 1;
      if (this.depth > MAX_NESTING) {
        const what = `the expression is nested too deeply (more than ${MAX_NESTING} levels)`;
        throw new ExpressionError(what, this.text, this.peek().position);
      }
      let left = this.prefix();
      let rest = []; // a chain of operators of one precedence level
      let position = 0;
      let op;
      while ((op = this.binaryOp(this.peek())) !== null && BINARY[op] > minBp) {
        const token = this.take();
        if (rest.length && BINARY[rest[0][0]] !== BINARY[op]) {
          // a lower level: the chain so far is its left side
          left = { type: "operation", first: left, rest, position };
          rest = [];
        }
        position = rest.length ? position : token.position;
        rest.push([op, this.expression(BINARY[op])]);
      }
      this.depth -= 1;
      return rest.length ? { type: "operation", first: left, rest, position } : left;
    }

    prefix() {
      const token = this.take();
      const at = token.position;
      if (token.kind === "num") return { type: "literal", value: Number(token.text), position: at };
      if (token.kind === "str") return { type: "literal", value: token.text.slice(1, -1), position: at };
      if (token.kind === "ref") return { type: "ref", name: token.text, position: at };
      if (token.kind === "dot") return { type: "current", position: at };
      if (token.text === "-") return { type: "negate", operand: this.expression(UNARY_BP), position: at };
      if (token.text === "(") {
        const inner = this.expression();
        if (this.peek().text !== ")") {
          if (this.peek().kind === "end") throw new ExpressionError('missing ")" to close the "("', this.text, at);
          throw this.unexpected(this.peek(), 'expected ")"');
        }
        this.take();
        return inner;
      }
      if (token.kind === "name" && this.peek().text === "(") return this.call(token);
      if (token.kind === "name" && this.names) return { type: "name", name: token.text, position: at };
      if (token.kind === "name" && !OPERATOR_NAMES.includes(token.text)) {
        const call = token.text === "position" ? "position(..)" : `${token.text}()`;
        const hint = has(ARITY, token.text)
          ? `write ${call} to call the function`
          : `refer to a question as \${${token.text}}`;
        throw new ExpressionError(`unknown name "${token.text}"`, this.text, at, hint);
      }
      throw this.unexpected(token, token.kind === "end" ? "a value is missing" : "");
    }

    call(name) {
      if (!has(ARITY, name.text)) {
        throw new ExpressionError(`unknown function "${name.text}()"`, this.text, name.position);
      }
      const opening = this.take();
      if (name.text === "position") {
        // only position(..), which parses to a call without arguments
        if (this.peek().kind === "parent" && this.tokens[this.i + 1].text === ")") {
          this.i += 2;
          return { type: "call", name: name.text, args: [], position: name.position };
        }
        throw new ExpressionError("only position(..) is supported", this.text, name.position, POSITION_HINT);
      }
      const args = [];
      if (this.peek().text === ")") {
        this.take();
      } else {
        for (;;) {
          args.push(this.expression());
          const token = this.take();
          if (token.text === ")") break;
          if (token.text !== ",") {
            if (token.kind === "end") {
              throw new ExpressionError(`missing ")" to close ${name.text}(`, this.text, opening.position);
            }
            throw this.unexpected(token, 'expected "," or ")"');
          }
        }
      }
      const [low, high] = ARITY[name.text];
      const odd = name.text !== "indexed-repeat" || args.length % 2 === 1;
      if (args.length < low || (high >= 0 && args.length > high) || !odd) {
        const takes = name.text === "indexed-repeat" ? INDEXED_REPEAT_ARITY : arityText(low, high);
        const what = `${name.text}() takes ${takes} but was given ${args.length}`;
        throw new ExpressionError(what, this.text, name.position);
      }
      this.checkArguments(name, args);
      if (name.text === "instance") return this.lookup(name, args[0]);
      return { type: "call", name: name.text, args, position: name.position };
    }

    /** The path after instance('name'): /root/item, an optional [predicate], then /column. */
    lookup(name, source) {
      if (source.type !== "literal" || typeof source.value !== "string") {
        const what = "the name in instance() must be quoted text";
        throw new ExpressionError(what, this.text, name.position, INSTANCE_HINT);
      }
      const expect = (text) => {
        const token = this.peek();
        const kind = "/[]".includes(text) ? "path" : "name";
        if (token.text !== text || token.kind !== kind) {
          throw new ExpressionError(INSTANCE_ONLY, this.text, name.position, INSTANCE_HINT);
        }
        this.take();
      };
      ["/", "root", "/", "item"].forEach(expect);
      let predicate = null;
      if (this.peek().text === "[" && this.peek().kind === "path") {
        this.take();
        const names = this.names;
        this.names = true;
        predicate = this.expression();
        this.names = names;
        expect("]");
      }
      expect("/");
      const column = this.take();
      if (column.kind !== "name") throw new ExpressionError(INSTANCE_ONLY, this.text, name.position, INSTANCE_HINT);
      return { type: "lookup", instance: source.value, predicate, column: column.text, position: name.position };
    }

    /** Catch at parse time the mistakes ODK Collect only reports while someone fills in the form. */
    checkArguments(name, args) {
      if (NODESET_ARG.includes(name.text) && args[0].type !== "ref") {
        const what = `the argument of ${name.text}() must be a question reference like \${name}`;
        throw new ExpressionError(what, this.text, name.position);
      }
      if (name.text === "indexed-repeat") {
        args.forEach((arg, i) => {
          if ((i === 0 || i % 2 === 1) && arg.type !== "ref") {
            const what = `the ${i === 0 ? "question" : "repeat"} in indexed-repeat() must be a reference like \${name}`;
            throw new ExpressionError(what, this.text, name.position);
          }
        });
      }
      const second = args[1];
      if (name.text === "selected" && second.type === "literal" && typeof second.value === "number") {
        const choice = this.tokens.find((t) => t.position === second.position).text;
        const what = `the choice in selected() must be quoted, like '${choice}'`;
        throw new ExpressionError(what, this.text, second.position);
      }
      if (name.text === "regex" && second.type === "literal" && typeof second.value === "string") {
        const problem = regexProblem(second.value);
        if (problem !== null) {
          const what = `invalid regular expression "${second.value}"`;
          throw new ExpressionError(what, this.text, second.position, problem);
        }
      }
    }
  }

  /** Parse an expression; throws ExpressionError. `{names: true}` is for choice_filter (see the Python). */
  function parse(text, options) {
    if (stripWs(text) === "") throw new ExpressionError("the expression is empty", "", 0);
    const parser = new Parser(text, Boolean(options && options.names));
    const tree = parser.expression();
    const token = parser.peek();
    if (token.kind !== "end") {
      const operand = ["num", "str", "ref", "dot"].includes(token.kind);
      throw parser.unexpected(token, operand ? "an operator is missing before it" : "");
    }
    return tree;
  }

  /** The question names an expression uses (a Set), to check against the form. */
  function references(expr, found = new Set()) {
    if (expr.type === "ref") found.add(expr.name);
    else if (expr.type === "negate") references(expr.operand, found);
    else if (expr.type === "operation") {
      references(expr.first, found);
      expr.rest.forEach(([, e]) => references(e, found));
    } else if (expr.type === "call") expr.args.forEach((a) => references(a, found));
    else if (expr.type === "lookup" && expr.predicate) references(expr.predicate, found);
    return found;
  }

  // --- conversions (XPath 1.0 with ODK's date extension) ----------------------------------------------------------

  const NUMBER = /^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/;
  const DATE = new RegExp(
    "^([0-9]{4})-([0-9]{2})-([0-9]{2})" +
      "(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2}(?:\\.[0-9]+)?))?(Z|[+-][0-9]{2}:[0-9]{2})?)?$"
  );
  const stripWs = (s) => s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");

  function daysFromCivil(y, m, d) {
    y -= m <= 2 ? 1 : 0;
    const era = Math.floor(y / 400);
    const yoe = y - era * 400;
    const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
    return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
  }

  function civilFromDays(z) {
    z += 719468;
    const era = Math.floor(z / 146097);
    const doe = z - era * 146097;
    const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
    const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
    const mp = Math.floor((5 * doy + 2) / 153);
    const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
    const m = mp + (mp < 10 ? 3 : -9);
    const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    const pad = (n, w) => String(n).padStart(w, "0");
    return y >= 0 && y <= 9999 ? `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}` : "";
  }

  /** Days since 1970-01-01 UTC for an ISO date or dateTime string, null for anything else. */
  function dateDays(s) {
    const m = DATE.exec(s);
    if (m === null) return null;
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const february = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
    if (mo < 1 || mo > 12 || d < 1 || d > [31, february, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]) return null;
    const days = daysFromCivil(y, mo, d);
    if (m[4] === undefined) return days;
    const [hours, minutes, seconds] = [Number(m[4]), Number(m[5]), Number(m[6] || "0")];
    const z = m[7];
    const offset =
      z === undefined || z === "Z" ? 0 : (Number(z.slice(1, 3)) * 60 + Number(z.slice(4, 6))) * (z[0] === "-" ? -1 : 1);
    if (hours > 23 || minutes > 59 || seconds >= 60 || Math.abs(offset) >= 24 * 60) return null;
    return days + (hours * 3600 + minutes * 60 + seconds) / 86400 - offset / 1440;
  }

  function stringToNumber(s) {
    s = stripWs(s);
    if (NUMBER.test(s)) return Number(s);
    const days = dateDays(s);
    return days === null ? NaN : days;
  }

  /** XPath number(): "" and non-numeric text give NaN; ISO dates give days since 1970-01-01 (ODK). */
  function toNumber(value) {
    if (typeof value === "boolean") return value ? 1 : 0;
    if (typeof value === "number") return value;
    if (Array.isArray(value)) return value.length ? stringToNumber(value[0]) : NaN;
    return stringToNumber(value);
  }

  function formatNumber(x) {
    if (Number.isNaN(x)) return "NaN";
    if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
    if (Number.isInteger(x)) return Math.abs(x) < 1e21 ? String(x) : BigInt(x).toString();
    const text = String(x);
    const e = text.indexOf("e");
    if (e < 0) return text;
    const mantissa = text.slice(0, e);
    const [sign, digits] = mantissa[0] === "-" ? ["-", mantissa.slice(1)] : ["", mantissa];
    return `${sign}0.${"0".repeat(-Number(text.slice(e + 1)) - 1)}${digits.replace(".", "")}`;
  }

  /** XPath string(): 3 -> "3", NaN -> "NaN", true -> "true", a list -> its first member. */
  function toStringValue(value) {
    if (typeof value === "boolean") return value ? "true" : "false";
    if (typeof value === "number") return formatNumber(value);
    if (Array.isArray(value)) return value.length ? value[0] : "";
    return value;
  }

  /** XPath boolean(): a non-empty string, a non-zero number that is not NaN, a non-empty list. */
  function truthy(value) {
    if (typeof value === "number") return value !== 0 && !Number.isNaN(value);
    if (Array.isArray(value)) return value.length > 0;
    return typeof value === "boolean" ? value : value.length > 0;
  }

  // --- regular expressions ----------------------------------------------------------------------------------------

  const MAX_REPETITION = 1000; // RE2's limit, which the server matches with

  function tooMany(count) {
    return count.length > String(MAX_REPETITION).length || Number(count) > MAX_REPETITION;
  }

  /** Why `pattern` falls outside the dialect Python's re, JavaScript's RegExp and RE2 read alike, or null. The
   * server also refuses the rare pattern RE2 cannot run (nested repetitions above 1000 in all). */
  function regexProblem(pattern) {
    let i = 0;
    let inClass = false;
    while (i < pattern.length) {
      const c = pattern[i];
      const after = pattern.slice(i + 1, i + 3);
      if (c === "\\") {
        if (!after) return "it ends with a lone backslash";
        const n = after[0];
        if ("0123456789".includes(n)) return `"\\${n}" (a back-reference or octal escape) is not supported`;
        if (/^[A-Za-z]$/.test(n) && !"dDwWsSbBtnrfvxu".includes(n)) return `"\\${n}" is not supported`;
        const width = { x: 2, u: 4 }[n] || 0;
        if (width && !new RegExp(`^[0-9A-Fa-f]{${width}}$`).test(pattern.slice(i + 2, i + 2 + width))) {
          return `"\\${n}" must be followed by ${width} hexadecimal digits`;
        }
        i += 2 + width;
        continue;
      }
      if (inClass) {
        if (c === "[") return '"[" inside a character class must be written "\\["';
        inClass = c !== "]";
      } else if (c === "[") {
        inClass = true;
        i += after.slice(0, 1) === "^" ? 2 : 1;
        if (pattern.slice(i, i + 1) === "]") return 'a "]" right after "[" is not supported; write "\\]"';
        continue;
      } else if (c === "(" && after.slice(0, 1) === "?" && after.slice(1, 2) !== ":") {
        if (["=", "!"].includes(after.slice(1, 2))) {
          return `look-ahead "(?${after[1]}" is not supported (it needs backtracking)`;
        }
        return 'groups may start "(?:" but no other "(?"';
      } else if ("*+?".includes(c) && after.slice(0, 1) === "+") {
        return `"${c}+" (a possessive quantifier) is not supported`;
      } else if (c === "{" && after.slice(0, 1) === ",") {
        return '"{," is not supported; write "{0,"';
      } else if (c === "{") {
        const m = /^\{([0-9]+)(?:,([0-9]*))?\}/.exec(pattern.slice(i));
        const counts = m ? [m[1], m[2]].filter((n) => n) : [];
        if (counts.some((n) => n.length > 1 && n.startsWith("0"))) {
          return "a repetition count is written without leading zeros";
        }
        if (counts.some(tooMany)) return `a repetition count above ${MAX_REPETITION} is not supported`;
      }
      i += 1;
    }
    return compile(pattern) !== null ? null : "it is not a valid regular expression";
  }

  const compiled = new Map();
  function compile(pattern) {
    if (!compiled.has(pattern)) {
      let re = null;
      try {
        new RegExp(pattern); // the pattern alone must be valid: "a)(b" is not, though "^(?:a)(b)$" would be
        re = new RegExp(`^(?:${pattern})$`);
      } catch (e) {
        re = null;
      }
      if (compiled.size > 256) compiled.clear();
      compiled.set(pattern, re);
    }
    return compiled.get(pattern);
  }

  function regex(value, pattern) {
    const re = regexProblem(pattern) === null ? compile(pattern) : null;
    return re !== null && re.test(value);
  }

  // --- evaluation -------------------------------------------------------------------------------------------------

  /** XPath 1.0 comparison: lists compare member by member (true if any pair does). */
  function compare(op, a, b) {
    if (Array.isArray(a) || Array.isArray(b)) {
      if (typeof a === "boolean" || typeof b === "boolean") return compare(op, truthy(a), truthy(b));
      if (Array.isArray(a)) return a.some((x) => compare(op, x, b));
      return b.some((y) => compare(op, a, y));
    }
    if (op === "=" || op === "!=") {
      let equal;
      if (typeof a === "boolean" || typeof b === "boolean") {
        equal = truthy(a) === truthy(b);
      } else if (typeof a === "number" || typeof b === "number") {
        const [x, y] = [toNumber(a), toNumber(b)];
        equal = x === y || Math.abs(x - y) < 1e-12;
      } else {
        equal = a === b;
      }
      return op === "=" ? equal : !equal;
    }
    const [x, y] = [toNumber(a), toNumber(b)];
    return { "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y }[op];
  }

  function arithmetic(op, x, y) {
    if (op === "+") return x + y;
    if (op === "-") return x - y;
    if (op === "*") return x * y;
    if (op === "div") return x / y;
    return x % y; // the sign of the dividend, like Python's math.fmod
  }

  function operation(expr, ctx) {
    let acc = evalExpr(expr.first, ctx);
    for (const [op, operand] of expr.rest) {
      if (op === "and" || op === "or") {
        if (truthy(acc) === (op === "or")) return op === "or"; // short-circuit
        acc = truthy(evalExpr(operand, ctx));
      } else if (["=", "!=", "<", "<=", ">", ">="].includes(op)) {
        acc = compare(op, acc, evalExpr(operand, ctx));
      } else {
        acc = arithmetic(op, toNumber(acc), toNumber(evalExpr(operand, ctx)));
      }
    }
    return acc;
  }

  const OF_CURRENT = ["number", "string", "string-length", "normalize-space"];

  function evalExpr(expr, ctx) {
    switch (expr.type) {
      case "literal":
        return expr.value;
      case "ref": {
        const value = has(ctx.values, expr.name) ? ctx.values[expr.name] : "";
        return Array.isArray(value) ? value.slice() : value;
      }
      case "name":
        return has(ctx.columns, expr.name) ? ctx.columns[expr.name] : "";
      case "current":
        return ctx.current;
      case "negate":
        return -toNumber(evalExpr(expr.operand, ctx));
      case "operation":
        return operation(expr, ctx);
      case "lookup":
        return lookup(expr, ctx);
      default:
        break;
    }
    if (expr.name === "if") return evalExpr(truthy(evalExpr(expr.args[0], ctx)) ? expr.args[1] : expr.args[2], ctx);
    if (expr.name === "once") return ctx.current ? ctx.current : evalExpr(expr.args[0], ctx);
    if (expr.name === "today") return ctx.today;
    if (expr.name === "now") return ctx.now;
    if (expr.name === "pulldata") return pulldata(expr.args.map((a) => evalExpr(a, ctx)), ctx.instances);
    if (expr.name === "position") return ctx.position === null ? NaN : ctx.position;
    if (expr.name === "indexed-repeat") {
      // nested repeats: only the last index counts (see the Python module)
      return indexedRepeat(evalExpr(expr.args[0], ctx), evalExpr(expr.args[expr.args.length - 1], ctx));
    }
    let args = expr.args.map((a) => evalExpr(a, ctx));
    if (args.length === 0 && OF_CURRENT.includes(expr.name)) args = [ctx.current];
    return FUNCTIONS[expr.name](args);
  }

  function localToday() {
    const d = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  }

  /** Evaluate a parsed expression. `values` maps question names to answers (missing names read as ""),
   * `current` is what `.` means, `today` ("YYYY-MM-DD") what today() returns (default: the local date),
   * `columns` the choice a choice_filter is deciding on (read by bare names), `position` the 1-based number of
   * the repeat instance being evaluated, what position(..) returns (null or undefined outside a repeat: NaN). */
  function localNow() {
    const d = new Date();
    const pad = (n, w) => String(Math.abs(n)).padStart(w || 2, "0");
    const offset = -d.getTimezoneOffset();
    const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
    return `${localToday()}T${time}${offset < 0 ? "-" : "+"}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
  }

  /** `extra` holds `instances` (the tables pulldata() and instance() read: a choice list or an attached file by
   * name, as arrays of rows of columns) and `now` (what now() returns, default the local time), as in Python. */
  function evaluate(expr, values, current, today, columns, position, extra) {
    const ctx = {
      values: values || {},
      current: current || "",
      today: today || localToday(),
      columns: columns || {},
      position: position === undefined || position === null ? null : Number(position),
      instances: (extra && extra.instances) || {},
      now: (extra && extra.now) || localNow(),
    };
    return evalExpr(expr, ctx);
  }

  /** instance('name')/root/item[predicate]/column: the column of every item the predicate keeps. */
  function lookup(expr, ctx) {
    const rows = has(ctx.instances, expr.instance) ? ctx.instances[expr.instance] : [];
    const found = [];
    rows.forEach((row, i) => {
      if (expr.predicate) {
        const keep = evalExpr(expr.predicate, Object.assign({}, ctx, { columns: row }));
        if (typeof keep === "number" && !Number.isNaN(keep) && keep !== i + 1) return;
        if (typeof keep !== "number" && !truthy(keep)) return;
      }
      found.push(has(row, expr.column) ? row[expr.column] : "");
    });
    return found;
  }

  /** pulldata('file', 'column', 'key column', key): the column of the first row whose key column is the key. */
  function pulldata(args, instances) {
    const [table, column, keyColumn, key] = args.map(toStringValue);
    const rows = has(instances, table) ? instances[table] : [];
    const row = rows.find((r) => (has(r, keyColumn) ? r[keyColumn] : "") === key);
    return row && has(row, column) ? row[column] : "";
  }

  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const DATE_PARTS = new RegExp(
    "^([0-9]{4})-([0-9]{2})-([0-9]{2})" +
      "(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2}(?:\\.[0-9]+)?))?(Z|[+-][0-9]{2}:[0-9]{2})?)?$"
  );

  /** ODK's format-date()/format-date-time(), as in the Python (format_date). */
  function formatDate(value, pattern) {
    const s = typeof value === "string" || Array.isArray(value) ? stripWs(toStringValue(value)) : "";
    const m = s ? DATE_PARTS.exec(s) : null;
    let y, mo, d, h, mi, sec, ms, dayNumber;
    if (m !== null && dateDays(s) !== null) {
      [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
      dayNumber = dateDays(s.slice(0, 10));
      const seconds = Number(m[6] || "0");
      const fraction = Math.round((seconds - Math.trunc(seconds)) * 1000);
      [h, mi, sec, ms] = [Number(m[4] || 0), Number(m[5] || 0), Math.trunc(seconds), fraction];
    } else {
      const days = toNumber(value);
      if (!Number.isFinite(days) || Math.abs(days) >= 1e7) return "";
      dayNumber = Math.floor(days);
      const text = date([dayNumber]);
      if (!text) return "";
      [y, mo, d] = [Number(text.slice(0, 4)), Number(text.slice(5, 7)), Number(text.slice(8, 10))];
      const total = Math.round((days - dayNumber) * 86400000);
      h = Math.floor(total / 3600000);
      [mi, sec, ms] = [Math.floor(total / 60000) % 60, Math.floor(total / 1000) % 60, total % 1000];
    }
    const pad = (n, w) => String(n).padStart(w || 2, "0");
    const fields = {
      Y: pad(y, 4), y: pad(y % 100), m: pad(mo), n: String(mo), b: MONTHS[mo - 1], d: pad(d), e: String(d),
      a: WEEKDAYS[(((dayNumber + 4) % 7) + 7) % 7], H: pad(h), h: String(h), M: pad(mi), S: pad(sec), 3: pad(ms, 3),
    };
    return pattern.replace(/%([\s\S])/g, (all, f) => (has(fields, f) ? fields[f] : all));
  }

  /** Replace each ${name} in a label or hint with the answer; list answers are joined by ", ". */
  function interpolate(label, values) {
    return label.replace(/\$\{([^}]*)\}/g, (_, name) => {
      const value = has(values, name) ? values[name] : "";
      return Array.isArray(value) ? value.join(", ") : value;
    });
  }

  // --- function bodies --------------------------------------------------------------------------------------------

  /** A space-separated selection as a list of choice names. */
  function items(value) {
    const s = stripWs(toStringValue(value));
    return s ? s.split(/[ \t\r\n]+/) : [];
  }

  const members = (args) => args.flatMap((a) => (Array.isArray(a) ? a : [a]));
  const chars = (value) => Array.from(toStringValue(value)); // code points, as Python counts

  function index(value) {
    const x = toNumber(value);
    return Number.isNaN(x) ? null : Math.trunc(Math.max(-(2 ** 31), Math.min(2 ** 31, x)));
  }

  /** The n-th (1-based) member of a repeated question's answers; "" when there is none. */
  function indexedRepeat(value, n) {
    const answers = Array.isArray(value) ? value : [toStringValue(value)];
    const i = index(n);
    return i !== null && i >= 1 && i <= answers.length ? answers[i - 1] : "";
  }

  function selectedAt(args) {
    const [list, i] = [items(args[0]), index(args[1])];
    return i !== null && i >= 0 && i < list.length ? list[i] : "";
  }

  /** ODK's substr: 0-based, end exclusive, negative positions count from the end (JavaRosa). */
  function substr(args) {
    const s = chars(args[0]);
    let start = index(args[1]) || 0;
    let end = args.length < 3 ? s.length : index(args[2]) || 0;
    if (start < 0) start += s.length;
    if (end < 0) end += s.length;
    return s.slice(Math.max(0, start), Math.max(0, end)).join("");
  }

  function translate(args) {
    const [s, source, target] = args.map(chars);
    const table = new Map();
    source.forEach((c, i) => {
      if (!table.has(c)) table.set(c, i < target.length ? target[i] : "");
    });
    return s.map((c) => (table.has(c) ? table.get(c) : c)).join("");
  }

  function before(s, sep) {
    const i = s.indexOf(sep);
    return i >= 0 ? s.slice(0, i) : "";
  }

  function after(s, sep) {
    const i = s.indexOf(sep);
    return i >= 0 ? s.slice(i + sep.length) : "";
  }

  function sum(args) {
    let total = 0;
    for (const x of members(args).map(toNumber)) total += Number.isNaN(x) ? 0 : x;
    return total;
  }

  function coalesce(args) {
    const first = Array.isArray(args[0]) ? toStringValue(args[0]) : args[0];
    const empty = first === "" || (typeof first === "number" && Number.isNaN(first));
    return empty ? (Array.isArray(args[1]) ? toStringValue(args[1]) : args[1]) : first;
  }

  function extreme(args, pick) {
    const numbers = members(args).map(toNumber).filter((x) => !Number.isNaN(x));
    return numbers.length ? numbers.reduce(pick) : NaN;
  }

  /** XPath round (halves toward +infinity) to `digits` decimals, on the decimal digits the number prints with. */
  function round(args) {
    const x = toNumber(args[0]);
    const digits = args.length > 1 ? toNumber(args[1]) : 0;
    if (Number.isNaN(digits) || Math.abs(digits) > 30) return NaN;
    if (!Number.isFinite(x)) return x;
    const d = Math.trunc(digits);
    const [mantissa, exponent = "0"] = String(x).split("e");
    const scaled = Number(`${mantissa}e${Number(exponent) + d}`);
    if (Math.abs(scaled) >= 2 ** 52) return x;
    const floor = Math.floor(scaled);
    const rounded = scaled - floor >= 0.5 ? floor + 1 : floor;
    return Number(`${rounded}e${-d}`);
  }

  function date(args) {
    const value = args[0];
    if (typeof value === "string" || Array.isArray(value)) {
      const s = stripWs(toStringValue(value));
      if (s === "" || dateDays(s) !== null) return s.slice(0, 10);
    }
    const days = toNumber(value);
    return Number.isFinite(days) && Math.abs(days) < 1e7 ? civilFromDays(Math.trunc(days)) : "";
  }

  const FUNCTIONS = {
    selected: (a) => items(a[0]).includes(stripWs(toStringValue(a[1]))),
    "count-selected": (a) => items(a[0]).length,
    "selected-at": selectedAt,
    not: (a) => !truthy(a[0]),
    true: () => true,
    false: () => false,
    boolean: (a) => truthy(a[0]),
    "boolean-from-string": (a) => ["true", "1"].includes(toStringValue(a[0])),
    number: (a) => toNumber(a[0]),
    int: (a) => Math.trunc(toNumber(a[0])),
    string: (a) => toStringValue(a[0]),
    "string-length": (a) => chars(a[0]).length,
    concat: (a) => members(a).map(toStringValue).join(""),
    join: (a) => members(a.slice(1)).map(toStringValue).join(toStringValue(a[0])),
    contains: (a) => toStringValue(a[0]).includes(toStringValue(a[1])),
    "starts-with": (a) => toStringValue(a[0]).startsWith(toStringValue(a[1])),
    "ends-with": (a) => toStringValue(a[0]).endsWith(toStringValue(a[1])),
    substr,
    "substring-before": (a) => before(toStringValue(a[0]), toStringValue(a[1])),
    "substring-after": (a) => after(toStringValue(a[0]), toStringValue(a[1])),
    translate,
    "normalize-space": (a) => items(a[0]).join(" "),
    regex: (a) => regex(toStringValue(a[0]), toStringValue(a[1])),
    coalesce,
    count: (a) => (Array.isArray(a[0]) ? a[0].length : 1),
    "count-non-empty": (a) => members(a).filter((m) => m !== "").length,
    sum,
    max: (a) => extreme(a, (x, y) => (y > x ? y : x)),
    min: (a) => extreme(a, (x, y) => (y < x ? y : x)),
    abs: (a) => Math.abs(toNumber(a[0])),
    round,
    date,
    "decimal-date-time": (a) => toNumber(a[0]),
    pow: (a) => Math.pow(toNumber(a[0]), toNumber(a[1])),
    log: (a) => Math.log(toNumber(a[0])),
    log10: (a) => Math.log10(toNumber(a[0])),
    exp: (a) => Math.exp(toNumber(a[0])),
    exp10: (a) => Math.pow(10, toNumber(a[0])),
    sqrt: (a) => Math.sqrt(toNumber(a[0])),
    sin: (a) => Math.sin(toNumber(a[0])),
    cos: (a) => Math.cos(toNumber(a[0])),
    tan: (a) => Math.tan(toNumber(a[0])),
    asin: (a) => Math.asin(toNumber(a[0])),
    acos: (a) => Math.acos(toNumber(a[0])),
    atan: (a) => Math.atan(toNumber(a[0])),
    atan2: (a) => Math.atan2(toNumber(a[0]), toNumber(a[1])),
    pi: () => Math.PI,
    random: () => Math.random(),
    floor: (a) => Math.floor(toNumber(a[0])) + 0,
    ceiling: (a) => Math.ceil(toNumber(a[0])) + 0,
    "format-date": (a) => formatDate(a[0], toStringValue(a[1])),
    "format-date-time": (a) => formatDate(a[0], toStringValue(a[1])),
    uuid: () => {
      if (typeof crypto !== "undefined" && crypto.randomUUID) return crypto.randomUUID(); // a secure context
      const hex = (c) => (c ^ ((Math.random() * 16) >> (c / 4))).toString(16);
      return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, hex);
    },
  };

  const api = {
    parse, evaluate, references, interpolate, truthy, toNumber, toStringValue, regexProblem, ExpressionError,
  };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  if (root) root.LmExpr = api;
})(typeof window !== "undefined" ? window : null);
