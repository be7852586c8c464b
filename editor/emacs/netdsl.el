;;; netdsl.el --- netdsl (.net) files and the netdsl language server  -*- lexical-binding: t; -*-

;; A small major mode for netdsl's `.net' files (comments with `#', keywords, indentation of
;; `{ }' blocks) and the netdsl language server (`netdsl lsp', over stdio) through eglot:
;; diagnostics, hover with each layer's shape, completion, rename, formatting, and each layer's
;; shape after its line (inlay hints, shown by the eglot of Emacs 29.1 and later).
;;
;; Copy this file into your `load-path' and add (require 'netdsl) to your init file, or paste
;; its forms there.  Eglot is built into Emacs 29+; on Emacs 26-28 install it from GNU ELPA
;; (M-x package-install RET eglot).  The server starts in each .net buffer
;; (`netdsl-eglot-ensure' on `netdsl-mode-hook'); `netdsl' must be on `exec-path'.

;;; Code:

(defgroup netdsl nil
  "netdsl, a small language for neural networks."
  :group 'languages)

(defcustom netdsl-indent-offset 4
  "Indentation of each `{ }' block level in `netdsl-mode'."
  :type 'integer)

(defvar netdsl-mode-syntax-table
  (let ((table (make-syntax-table)))
    (modify-syntax-entry ?# "<" table)
    (modify-syntax-entry ?\n ">" table)
    (modify-syntax-entry ?_ "_" table)
    (modify-syntax-entry ?' "\"" table)
    table)
  "Syntax table of `netdsl-mode': `#' starts a comment to the end of the line.")

(defconst netdsl-font-lock-keywords
  `((,(regexp-opt '("net" "param" "input" "output" "repeat" "residual" "skip"
                    "augment" "train" "from" "in")
                  'symbols)
     . font-lock-keyword-face)
    ("^\\s-*\\(?:param\\|net\\)\\s-+\\(\\(?:\\sw\\|\\s_\\)+\\)" 1 font-lock-variable-name-face)
    ("\\_<\\([A-Za-z_][A-Za-z0-9_]*\\)\\s-*(" 1 font-lock-function-name-face))
  "Highlighting in `netdsl-mode': keywords, declared names, layer calls.")

(defun netdsl--indentation ()
  "The column the current line belongs at.
A line inside `( )' or `[ ]' whose opening line goes on after the
bracket lines up with it (the rows of a matrix); otherwise each open
bracket adds a level, and a closing one goes back one."
  (save-excursion
    (back-to-indentation)
    (let* ((ppss (syntax-ppss))
           (open (nth 1 ppss))
           (closing (looking-at-p "[])}]")))
      (cond ((null open) 0)
            ((and (not (eq (char-after open) ?{))
                  (save-excursion
                    (goto-char (1+ open))
                    (not (looking-at-p "[ \t]*\\(#.*\\)?$"))))
             (goto-char (if closing open (1+ open)))
             (unless closing (skip-chars-forward " \t"))
             (current-column))
            (t (* netdsl-indent-offset (max 0 (- (car ppss) (if closing 1 0)))))))))

(defun netdsl-indent-line ()
  "Indent the current line to `netdsl--indentation', point kept in the text."
  (let ((column (netdsl--indentation)))
    (if (<= (current-column) (current-indentation))
        (indent-line-to column)
      (save-excursion (indent-line-to column)))))

;;;###autoload
(define-derived-mode netdsl-mode prog-mode "netdsl"
  "Major mode for netdsl's `.net' files."
  (setq-local comment-start "# ")
  (setq-local comment-start-skip "#+\\s-*")
  (setq-local font-lock-defaults '(netdsl-font-lock-keywords))
  (setq-local indent-line-function #'netdsl-indent-line)
  (setq-local indent-tabs-mode nil)
  (setq-local electric-indent-chars (append "{}()[]" electric-indent-chars)))

;;;###autoload
(add-to-list 'auto-mode-alist '("\\.net\\'" . netdsl-mode))

(defvar eglot-server-programs)
(with-eval-after-load 'eglot
  (add-to-list 'eglot-server-programs
               '(netdsl-mode . ("netdsl" "lsp"
                                :initializationOptions (:inlayHints t)))))

(declare-function eglot-ensure "eglot")
(defun netdsl-eglot-ensure ()
  "Start the netdsl language server for this buffer, if eglot is installed."
  (when (require 'eglot nil t)
    (eglot-ensure)))

;; Start the server in every .net buffer (remove this to start it by hand with M-x eglot).
(add-hook 'netdsl-mode-hook #'netdsl-eglot-ensure)

(provide 'netdsl)
;;; netdsl.el ends here
