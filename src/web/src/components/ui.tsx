import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';
import { BASE, linkClick } from '../lib/router.ts';
import { createStore, useStore } from '../lib/store.ts';

export function Link(props: {
  href: string;
  children: ComponentChildren;
  class?: string;
  'aria-current'?: 'page';
  'aria-label'?: string;
}) {
  const { href, children, ...rest } = props;
  return (
    <a {...rest} href={BASE + href} onClick={(event) => linkClick(event as MouseEvent, href)}>
      {children}
    </a>
  );
}

/** A modal on the native <dialog>: focus is trapped and Escape closes it, for free. */
export function Dialog(props: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      class={props.wide ? 'wide' : ''}
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        props.onClose();
      }}
    >
      <header class="dialog-head">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" class="ghost" aria-label="Close" onClick={props.onClose}>
          ✕
        </button>
      </header>
      <div class="dialog-body">{props.children}</div>
    </dialog>
  );
}

export function Loading(props: { label?: string }) {
  return (
    <p class="muted" aria-busy="true">
      {props.label ?? 'Loading…'}
    </p>
  );
}

export function ErrorNote(props: { error: string | null | undefined }) {
  return props.error ? (
    <p class="error-note" role="alert">
      {props.error}
    </p>
  ) : null;
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="empty">{props.children}</p>;
}

export function Badge(props: {
  tone?: 'ok' | 'warn' | 'bad' | 'info' | 'muted';
  children: ComponentChildren;
  title?: string;
}) {
  return (
    <span class={`badge ${props.tone ?? 'muted'}`} title={props.title}>
      {props.children}
    </span>
  );
}

export function Tabs<T extends string>(props: {
  label: string;
  tabs: Array<{ id: T; label: string }>;
  current: T;
  onSelect: (id: T) => void;
}) {
  return (
    <div class="tabs" role="tablist" aria-label={props.label}>
      {props.tabs.map((tab) => (
        <button
          key={tab.id}
          type="button"
          role="tab"
          aria-selected={tab.id === props.current}
          class={tab.id === props.current ? 'active' : ''}
          onClick={() => props.onSelect(tab.id)}
        >
          {tab.label}
        </button>
      ))}
    </div>
  );
}

interface Toast {
  id: number;
  message: string;
  tone: 'ok' | 'bad';
}

const toasts = createStore<Toast[]>([]);
let toastSequence = 0;

/** A short message announced to screen readers and shown for a few seconds. */
export function notify(message: string, tone: 'ok' | 'bad' = 'ok'): void {
  const id = ++toastSequence;
  toasts.set((list) => [...list.slice(-3), { id, message, tone }]);
  window.setTimeout(() => toasts.set((list) => list.filter((t) => t.id !== id)), 5000);
}

export function Toasts() {
  const list = useStore(toasts);
  return (
    <div class="toasts" aria-live="polite" aria-atomic="false">
      {list.map((toast) => (
        <p key={toast.id} class={`toast ${toast.tone}`}>
          {toast.message}
        </p>
      ))}
    </div>
  );
}

export function PageHeader(props: {
  title: string;
  children?: ComponentChildren;
  subtitle?: ComponentChildren;
}) {
  return (
    <header class="page-head">
      <div>
        <h1>{props.title}</h1>
        {props.subtitle ? <p class="muted">{props.subtitle}</p> : null}
      </div>
      {props.children ? <div class="actions">{props.children}</div> : null}
    </header>
  );
}

export function NeedProperty() {
  return (
    <Empty>
      No property selected. Create a property (Properties) or ask an administrator to give you access to one.
    </Empty>
  );
}

export function confirmAction(message: string): boolean {
  return window.confirm(message);
}
