var X,v,Pe,pt,P,Ne,Ae,Ue,Oe,he,de,pe,ft,Q={},Z=[],ht=/acit|ex(?:s|g|n|p|$)|rph|grid|ows|mnc|ntw|ine[ch]|zoo|^ord|itera/i,ee=Array.isArray;function N(t,e){for(var n in e)t[n]=e[n];return t}function me(t){t&&t.parentNode&&t.parentNode.removeChild(t)}function ve(t,e,n){var r,s,o,a={};for(o in e)o=="key"?r=e[o]:o=="ref"?s=e[o]:a[o]=e[o];if(arguments.length>2&&(a.children=arguments.length>3?X.call(arguments,2):n),typeof t=="function"&&t.defaultProps!=null)for(o in t.defaultProps)a[o]===void 0&&(a[o]=t.defaultProps[o]);return G(t,a,r,s,null)}function G(t,e,n,r,s){var o={type:t,props:e,key:n,ref:r,__k:null,__:null,__b:0,__e:null,__c:null,constructor:void 0,__v:s??++Pe,__i:-1,__u:0};return s==null&&v.vnode!=null&&v.vnode(o),o}function te(t){return t.children}function K(t,e){this.props=t,this.context=e}function W(t,e){if(e==null)return t.__?W(t.__,t.__i+1):null;for(var n;e<t.__k.length;e++)if((n=t.__k[e])!=null&&n.__e!=null)return n.__e;return typeof t.type=="function"?W(t):null}function mt(t){if(t.__P&&t.__d){var e=t.__v,n=e.__e,r=[],s=[],o=N({},e);o.__v=e.__v+1,v.vnode&&v.vnode(o),$e(t.__P,o,e,t.__n,t.__P.namespaceURI,32&e.__u?[n]:null,r,n??W(e),!!(32&e.__u),s),o.__v=e.__v,o.__.__k[o.__i]=o,We(r,o,s),e.__e=e.__=null,o.__e!=n&&He(o)}}function He(t){if((t=t.__)!=null&&t.__c!=null)return t.__e=t.__c.base=null,t.__k.some(function(e){if(e!=null&&e.__e!=null)return t.__e=t.__c.base=e.__e}),He(t)}function Re(t){(!t.__d&&(t.__d=!0)&&P.push(t)&&!Y.__r++||Ne!=v.debounceRendering)&&((Ne=v.debounceRendering)||Ae)(Y)}function Y(){try{for(var t,e=1;P.length;)P.length>e&&P.sort(Ue),t=P.shift(),e=P.length,mt(t)}finally{P.length=Y.__r=0}}function Fe(t,e,n,r,s,o,a,c,_,l,d){var i,p,f,h,x,w,$,m=r&&r.__k||Z,D=e.length;for(_=vt(n,e,m,_,D),i=0;i<D;i++)(f=n.__k[i])!=null&&(p=f.__i!=-1&&m[f.__i]||Q,f.__i=i,w=$e(t,f,p,s,o,a,c,_,l,d),h=f.__e,f.ref&&p.ref!=f.ref&&(p.ref&&ye(p.ref,null,f),d.push(f.ref,f.__c||h,f)),x==null&&h!=null&&(x=h),($=!!(4&f.__u))||p.__k===f.__k?_=Me(f,_,t,$):typeof f.type=="function"&&w!==void 0?_=w:h&&(_=h.nextSibling),f.__u&=-7);return n.__e=x,_}function vt(t,e,n,r,s){var o,a,c,_,l,d=n.length,i=d,p=0;for(t.__k=new Array(s),o=0;o<s;o++)(a=e[o])!=null&&typeof a!="boolean"&&typeof a!="function"?(typeof a=="string"||typeof a=="number"||typeof a=="bigint"||a.constructor==String?a=t.__k[o]=G(null,a,null,null,null):ee(a)?a=t.__k[o]=G(te,{children:a},null,null,null):a.constructor===void 0&&a.__b>0?a=t.__k[o]=G(a.type,a.props,a.key,a.ref?a.ref:null,a.__v):t.__k[o]=a,_=o+p,a.__=t,a.__b=t.__b+1,c=null,(l=a.__i=$t(a,n,_,i))!=-1&&(i--,(c=n[l])&&(c.__u|=2)),c==null||c.__v==null?(l==-1&&(s>d?p--:s<d&&p++),typeof a.type!="function"&&(a.__u|=4)):l!=_&&(l==_-1?p--:l==_+1?p++:(l>_?p--:p++,a.__u|=4))):t.__k[o]=null;if(i)for(o=0;o<d;o++)(c=n[o])!=null&&(2&c.__u)==0&&(c.__e==r&&(r=W(c)),je(c,c));return r}function Me(t,e,n,r){var s,o;if(typeof t.type=="function"){for(s=t.__k,o=0;s&&o<s.length;o++)s[o]&&(s[o].__=t,e=Me(s[o],e,n,r));return e}t.__e!=e&&(r&&(e&&t.type&&!e.parentNode&&(e=W(t)),n.insertBefore(t.__e,e||null)),e=t.__e);do e=e&&e.nextSibling;while(e!=null&&e.nodeType==8);return e}function $t(t,e,n,r){var s,o,a,c=t.key,_=t.type,l=e[n],d=l!=null&&(2&l.__u)==0;if(l===null&&c==null||d&&c==l.key&&_==l.type)return n;if(r>(d?1:0)){for(s=n-1,o=n+1;s>=0||o<e.length;)if((l=e[a=s>=0?s--:o++])!=null&&(2&l.__u)==0&&c==l.key&&_==l.type)return a}return-1}function Le(t,e,n){e[0]=="-"?t.setProperty(e,n??""):t[e]=n==null?"":typeof n!="number"||ht.test(e)?n:n+"px"}function V(t,e,n,r,s){var o,a;e:if(e=="style")if(typeof n=="string")t.style.cssText=n;else{if(typeof r=="string"&&(t.style.cssText=r=""),r)for(e in r)n&&e in n||Le(t.style,e,"");if(n)for(e in n)r&&n[e]==r[e]||Le(t.style,e,n[e])}else if(e[0]=="o"&&e[1]=="n")o=e!=(e=e.replace(Oe,"$1")),a=e.toLowerCase(),e=a in t||e=="onFocusOut"||e=="onFocusIn"?a.slice(2):e.slice(2),t.l||(t.l={}),t.l[e+o]=n,n?r?n.u=r.u:(n.u=he,t.addEventListener(e,o?pe:de,o)):t.removeEventListener(e,o?pe:de,o);else{if(s=="http://www.w3.org/2000/svg")e=e.replace(/xlink(H|:h)/,"h").replace(/sName$/,"s");else if(e!="width"&&e!="height"&&e!="href"&&e!="list"&&e!="form"&&e!="tabIndex"&&e!="download"&&e!="rowSpan"&&e!="colSpan"&&e!="role"&&e!="popover"&&e in t)try{t[e]=n??"";break e}catch{}typeof n=="function"||(n==null||n===!1&&e[4]!="-"?t.removeAttribute(e):t.setAttribute(e,e=="popover"&&n==1?"":n))}}function De(t){return function(e){if(this.l){var n=this.l[e.type+t];if(e.t==null)e.t=he++;else if(e.t<n.u)return;return n(v.event?v.event(e):e)}}}function $e(t,e,n,r,s,o,a,c,_,l){var d,i,p,f,h,x,w,$,m,D,U,I,Ce,z,_e,C=e.type;if(e.constructor!==void 0)return null;128&n.__u&&(_=!!(32&n.__u),o=[c=e.__e=n.__e]),(d=v.__b)&&d(e);e:if(typeof C=="function")try{if($=e.props,m=C.prototype&&C.prototype.render,D=(d=C.contextType)&&r[d.__c],U=d?D?D.props.value:d.__:r,n.__c?w=(i=e.__c=n.__c).__=i.__E:(m?e.__c=i=new C($,U):(e.__c=i=new K($,U),i.constructor=C,i.render=bt),D&&D.sub(i),i.state||(i.state={}),i.__n=r,p=i.__d=!0,i.__h=[],i._sb=[]),m&&i.__s==null&&(i.__s=i.state),m&&C.getDerivedStateFromProps!=null&&(i.__s==i.state&&(i.__s=N({},i.__s)),N(i.__s,C.getDerivedStateFromProps($,i.__s))),f=i.props,h=i.state,i.__v=e,p)m&&C.getDerivedStateFromProps==null&&i.componentWillMount!=null&&i.componentWillMount(),m&&i.componentDidMount!=null&&i.__h.push(i.componentDidMount);else{if(m&&C.getDerivedStateFromProps==null&&$!==f&&i.componentWillReceiveProps!=null&&i.componentWillReceiveProps($,U),e.__v==n.__v||!i.__e&&i.shouldComponentUpdate!=null&&i.shouldComponentUpdate($,i.__s,U)===!1){e.__v!=n.__v&&(i.props=$,i.state=i.__s,i.__d=!1),e.__e=n.__e,e.__k=n.__k,e.__k.some(function(M){M&&(M.__=e)}),Z.push.apply(i.__h,i._sb),i._sb=[],i.__h.length&&a.push(i);break e}i.componentWillUpdate!=null&&i.componentWillUpdate($,i.__s,U),m&&i.componentDidUpdate!=null&&i.__h.push(function(){i.componentDidUpdate(f,h,x)})}if(i.context=U,i.props=$,i.__P=t,i.__e=!1,I=v.__r,Ce=0,m)i.state=i.__s,i.__d=!1,I&&I(e),d=i.render(i.props,i.state,i.context),Z.push.apply(i.__h,i._sb),i._sb=[];else do i.__d=!1,I&&I(e),d=i.render(i.props,i.state,i.context),i.state=i.__s;while(i.__d&&++Ce<25);i.state=i.__s,i.getChildContext!=null&&(r=N(N({},r),i.getChildContext())),m&&!p&&i.getSnapshotBeforeUpdate!=null&&(x=i.getSnapshotBeforeUpdate(f,h)),z=d!=null&&d.type===te&&d.key==null?Ie(d.props.children):d,c=Fe(t,ee(z)?z:[z],e,n,r,s,o,a,c,_,l),i.base=e.__e,e.__u&=-161,i.__h.length&&a.push(i),w&&(i.__E=i.__=null)}catch(M){if(e.__v=null,_||o!=null)if(M.then){for(e.__u|=_?160:128;c&&c.nodeType==8&&c.nextSibling;)c=c.nextSibling;o[o.indexOf(c)]=null,e.__e=c}else{for(_e=o.length;_e--;)me(o[_e]);fe(e)}else e.__e=n.__e,e.__k=n.__k,M.then||fe(e);v.__e(M,e,n)}else o==null&&e.__v==n.__v?(e.__k=n.__k,e.__e=n.__e):c=e.__e=yt(n.__e,e,n,r,s,o,a,_,l);return(d=v.diffed)&&d(e),128&e.__u?void 0:c}function fe(t){t&&(t.__c&&(t.__c.__e=!0),t.__k&&t.__k.some(fe))}function We(t,e,n){for(var r=0;r<n.length;r++)ye(n[r],n[++r],n[++r]);v.__c&&v.__c(e,t),t.some(function(s){try{t=s.__h,s.__h=[],t.some(function(o){o.call(s)})}catch(o){v.__e(o,s.__v)}})}function Ie(t){return typeof t!="object"||t==null||t.__b>0?t:ee(t)?t.map(Ie):N({},t)}function yt(t,e,n,r,s,o,a,c,_){var l,d,i,p,f,h,x,w=n.props||Q,$=e.props,m=e.type;if(m=="svg"?s="http://www.w3.org/2000/svg":m=="math"?s="http://www.w3.org/1998/Math/MathML":s||(s="http://www.w3.org/1999/xhtml"),o!=null){for(l=0;l<o.length;l++)if((f=o[l])&&"setAttribute"in f==!!m&&(m?f.localName==m:f.nodeType==3)){t=f,o[l]=null;break}}if(t==null){if(m==null)return document.createTextNode($);t=document.createElementNS(s,m,$.is&&$),c&&(v.__m&&v.__m(e,o),c=!1),o=null}if(m==null)w===$||c&&t.data==$||(t.data=$);else{if(o=o&&X.call(t.childNodes),!c&&o!=null)for(w={},l=0;l<t.attributes.length;l++)w[(f=t.attributes[l]).name]=f.value;for(l in w)f=w[l],l=="dangerouslySetInnerHTML"?i=f:l=="children"||l in $||l=="value"&&"defaultValue"in $||l=="checked"&&"defaultChecked"in $||V(t,l,null,f,s);for(l in $)f=$[l],l=="children"?p=f:l=="dangerouslySetInnerHTML"?d=f:l=="value"?h=f:l=="checked"?x=f:c&&typeof f!="function"||w[l]===f||V(t,l,f,w[l],s);if(d)c||i&&(d.__html==i.__html||d.__html==t.innerHTML)||(t.innerHTML=d.__html),e.__k=[];else if(i&&(t.innerHTML=""),Fe(e.type=="template"?t.content:t,ee(p)?p:[p],e,n,r,m=="foreignObject"?"http://www.w3.org/1999/xhtml":s,o,a,o?o[0]:n.__k&&W(n,0),c,_),o!=null)for(l=o.length;l--;)me(o[l]);c||(l="value",m=="progress"&&h==null?t.removeAttribute("value"):h!=null&&(h!==t[l]||m=="progress"&&!h||m=="option"&&h!=w[l])&&V(t,l,h,w[l],s),l="checked",x!=null&&x!=t[l]&&V(t,l,x,w[l],s))}return t}function ye(t,e,n){try{if(typeof t=="function"){var r=typeof t.__u=="function";r&&t.__u(),r&&e==null||(t.__u=t(e))}else t.current=e}catch(s){v.__e(s,n)}}function je(t,e,n){var r,s;if(v.unmount&&v.unmount(t),(r=t.ref)&&(r.current&&r.current!=t.__e||ye(r,null,e)),(r=t.__c)!=null){if(r.componentWillUnmount)try{r.componentWillUnmount()}catch(o){v.__e(o,e)}r.base=r.__P=null}if(r=t.__k)for(s=0;s<r.length;s++)r[s]&&je(r[s],e,n||typeof t.type!="function");n||me(t.__e),t.__c=t.__=t.__e=void 0}function bt(t,e,n){return this.constructor(t,n)}function ne(t,e,n){var r,s,o,a;e==document&&(e=document.documentElement),v.__&&v.__(t,e),s=(r=typeof n=="function")?null:n&&n.__k||e.__k,o=[],a=[],$e(e,t=(!r&&n||e).__k=ve(te,null,[t]),s||Q,Q,e.namespaceURI,!r&&n?[n]:s?null:e.firstChild?X.call(e.childNodes):null,o,!r&&n?n:s?s.__e:e.firstChild,r,a),We(o,t,a)}X=Z.slice,v={__e:function(t,e,n,r){for(var s,o,a;e=e.__;)if((s=e.__c)&&!s.__)try{if((o=s.constructor)&&o.getDerivedStateFromError!=null&&(s.setState(o.getDerivedStateFromError(t)),a=s.__d),s.componentDidCatch!=null&&(s.componentDidCatch(t,r||{}),a=s.__d),a)return s.__E=s}catch(c){t=c}throw t}},Pe=0,pt=function(t){return t!=null&&t.constructor===void 0},K.prototype.setState=function(t,e){var n;n=this.__s!=null&&this.__s!=this.state?this.__s:this.__s=N({},this.state),typeof t=="function"&&(t=t(N({},n),this.props)),t&&N(n,t),t!=null&&this.__v&&(e&&this._sb.push(e),Re(this))},K.prototype.forceUpdate=function(t){this.__v&&(this.__e=!0,t&&this.__h.push(t),Re(this))},K.prototype.render=te,P=[],Ae=typeof Promise=="function"?Promise.prototype.then.bind(Promise.resolve()):setTimeout,Ue=function(t,e){return t.__v.__b-e.__v.__b},Y.__r=0,Oe=/(PointerCapture)$|Capture$/i,he=0,de=De(!1),pe=De(!0),ft=0;var j,y,be,Be,oe=0,Ze=[],b=v,qe=b.__b,Je=b.__r,ze=b.diffed,Ve=b.__c,Ge=b.unmount,Ke=b.__;function ke(t,e){b.__h&&b.__h(y,t,oe||e),oe=0;var n=y.__H||(y.__H={__:[],__h:[]});return t>=n.__.length&&n.__.push({}),n.__[t]}function g(t){return oe=1,gt(Xe,t)}function gt(t,e,n){var r=ke(j++,2);if(r.t=t,!r.__c&&(r.__=[n?n(e):Xe(void 0,e),function(c){var _=r.__N?r.__N[0]:r.__[0],l=r.t(_,c);_!==l&&(r.__N=[l,r.__[1]],r.__c.setState({}))}],r.__c=y,!y.__f)){var s=function(c,_,l){if(!r.__c.__H)return!0;var d=r.__c.__H.__.filter(function(p){return p.__c});if(d.every(function(p){return!p.__N}))return!o||o.call(this,c,_,l);var i=r.__c.props!==c;return d.some(function(p){if(p.__N){var f=p.__[0];p.__=p.__N,p.__N=void 0,f!==p.__[0]&&(i=!0)}}),o&&o.call(this,c,_,l)||i};y.__f=!0;var o=y.shouldComponentUpdate,a=y.componentWillUpdate;y.componentWillUpdate=function(c,_,l){if(this.__e){var d=o;o=void 0,s(c,_,l),o=d}a&&a.call(this,c,_,l)},y.shouldComponentUpdate=s}return r.__N||r.__}function R(t,e){var n=ke(j++,3);!b.__s&&Ye(n.__H,e)&&(n.__=t,n.u=e,y.__H.__h.push(n))}function we(t,e){var n=ke(j++,7);return Ye(n.__H,e)&&(n.__=t(),n.__H=e,n.__h=t),n.__}function Se(t,e){return oe=8,we(function(){return t},e)}function kt(){for(var t;t=Ze.shift();){var e=t.__H;if(t.__P&&e)try{e.__h.some(re),e.__h.some(ge),e.__h=[]}catch(n){e.__h=[],b.__e(n,t.__v)}}}b.__b=function(t){y=null,qe&&qe(t)},b.__=function(t,e){t&&e.__k&&e.__k.__m&&(t.__m=e.__k.__m),Ke&&Ke(t,e)},b.__r=function(t){Je&&Je(t),j=0;var e=(y=t.__c).__H;e&&(be===y?(e.__h=[],y.__h=[],e.__.some(function(n){n.__N&&(n.__=n.__N),n.u=n.__N=void 0})):(e.__h.some(re),e.__h.some(ge),e.__h=[],j=0)),be=y},b.diffed=function(t){ze&&ze(t);var e=t.__c;e&&e.__H&&(e.__H.__h.length&&(Ze.push(e)!==1&&Be===b.requestAnimationFrame||((Be=b.requestAnimationFrame)||wt)(kt)),e.__H.__.some(function(n){n.u&&(n.__H=n.u),n.u=void 0})),be=y=null},b.__c=function(t,e){e.some(function(n){try{n.__h.some(re),n.__h=n.__h.filter(function(r){return!r.__||ge(r)})}catch(r){e.some(function(s){s.__h&&(s.__h=[])}),e=[],b.__e(r,n.__v)}}),Ve&&Ve(t,e)},b.unmount=function(t){Ge&&Ge(t);var e,n=t.__c;n&&n.__H&&(n.__H.__.some(function(r){try{re(r)}catch(s){e=s}}),n.__H=void 0,e&&b.__e(e,n.__v))};var Qe=typeof requestAnimationFrame=="function";function wt(t){var e,n=function(){clearTimeout(r),Qe&&cancelAnimationFrame(e),setTimeout(t)},r=setTimeout(n,35);Qe&&(e=requestAnimationFrame(n))}function re(t){var e=y,n=t.__c;typeof n=="function"&&(t.__c=void 0,n()),y=e}function ge(t){var e=y;t.__c=t.__(),y=e}function Ye(t,e){return!t||t.length!==e.length||e.some(function(n,r){return n!==t[r]})}function Xe(t,e){return typeof e=="function"?e(t):e}var et="hookline-portal-session",tt=null,se=class extends Error{constructor(e,n,r){super(r),this.status=e,this.code=n}};function St(t){let e=t.slice(4).split(".")[0].replace(/-/g,"+").replace(/_/g,"/"),n=JSON.parse(atob(e+"=".repeat((4-e.length%4)%4)));if(typeof n.t!="string"||!Array.isArray(n.s)||typeof n.e!="number")throw new Error("not a portal session");return{tenant:n.t,scopes:new Set(n.s),expiresAt:new Date(n.e*1e3)}}function xt(){try{return sessionStorage.getItem(et)}catch{return null}}function Tt(t){tt=t;try{sessionStorage.setItem(et,t)}catch{}}function nt(){let t=new URLSearchParams(location.hash.slice(1)),e=location.hash.startsWith("#session=")?t.get("session"):null;e&&(Tt(e),history.replaceState(null,"",location.pathname+location.search+"#/"));let n=e||tt||xt();if(!n||!n.startsWith("hkp_"))return null;try{return{token:n,...St(n)}}catch{return null}}function rt(t,e){let n=new URL("tenants/"+encodeURIComponent(t.tenant),location.href);async function r(s,o,a){let c=new URL(n.pathname+o,location.origin),_={Authorization:"Bearer "+t.token,Accept:"application/json"};a!==void 0&&(_["Content-Type"]="application/json");let l;try{l=await fetch(c,{method:s,headers:_,body:a===void 0?void 0:JSON.stringify(a),credentials:"omit",cache:"no-store",referrerPolicy:"no-referrer"})}catch{throw new se(0,"network","The service could not be reached. Check your connection and try again.")}if(l.status===204)return null;let d=null;try{d=await l.json()}catch{d=null}if(!l.ok){let i=d&&d.error||{};throw l.status===401&&e(i.message),new se(l.status,i.code||"error",Et(l.status,i.message))}return d}return{get:s=>r("GET",s),post:(s,o)=>r("POST",s,o===void 0?{}:o),patch:(s,o)=>r("PATCH",s,o),del:s=>r("DELETE",s)}}function Et(t,e){let n=e?e.charAt(0).toUpperCase()+e.slice(1):"";return t===403?"This portal link does not allow that. "+n:t===404?"Not found: it may have been deleted. "+n:t===409?"That cannot be done right now. "+n:t===429||t>=500?"The service is busy or failed; try again in a moment. "+n:n||"The request failed (HTTP "+t+")."}function O(t){let e=new URLSearchParams;for(let[r,s]of Object.entries(t))s!=null&&s!==""&&e.set(r,s);let n=e.toString();return n?"?"+n:""}var st=function(t,e,n,r){var s;e[0]=0;for(var o=1;o<e.length;o++){var a=e[o++],c=e[o]?(e[0]|=a?1:2,n[e[o++]]):e[++o];a===3?r[0]=c:a===4?r[1]=Object.assign(r[1]||{},c):a===5?(r[1]=r[1]||{})[e[++o]]=c:a===6?r[1][e[++o]]+=c+"":a?(s=t.apply(c,st(t,c,n,["",null])),r.push(s),c[0]?e[0]|=2:(e[o-2]=0,e[o]=s)):r.push(c)}return r},ot=new Map;function it(t){var e=ot.get(this);return e||(e=new Map,ot.set(this,e)),(e=st(this,e.get(t)||(e.set(t,e=(function(n){for(var r,s,o=1,a="",c="",_=[0],l=function(p){o===1&&(p||(a=a.replace(/^\s*\n\s*|\s*\n\s*$/g,"")))?_.push(0,p,a):o===3&&(p||a)?(_.push(3,p,a),o=2):o===2&&a==="..."&&p?_.push(4,p,0):o===2&&a&&!p?_.push(5,0,!0,a):o>=5&&((a||!p&&o===5)&&(_.push(o,0,a,s),o=6),p&&(_.push(o,p,0,s),o=6)),a=""},d=0;d<n.length;d++){d&&(o===1&&l(),l(d));for(var i=0;i<n[d].length;i++)r=n[d][i],o===1?r==="<"?(l(),_=[_],o=3):a+=r:o===4?a==="--"&&r===">"?(o=1,a=""):a=r+a[0]:c?r===c?c="":a+=r:r==='"'||r==="'"?c=r:r===">"?(l(),o=1):o&&(r==="="?(o=5,s=a,a=""):r==="/"&&(o<5||n[d][i+1]===">")?(l(),o===3&&(_=_[0]),o=_,(_=_[0]).push(2,0,o),o=0):r===" "||r==="	"||r===`
`||r==="\r"?(l(),o=2):a+=r),o===3&&a==="!--"&&(o=4,_=_[0])}return l(),_})(t)),e),arguments,[])).length>1?e:e[0]}var u=it.bind(ve),k={endpointsRead:"endpoints:read",endpointsWrite:"endpoints:write",eventsRead:"events:read",eventsWrite:"events:write"},at=Intl.DateTimeFormat().resolvedOptions().timeZone,Ct=new Intl.DateTimeFormat(void 0,{dateStyle:"medium",timeStyle:"medium"});function E({iso:t}){if(!t)return u`<span class="muted">never</span>`;let e=new Date(t);return Number.isNaN(e.getTime())?u`<span>${t}</span>`:u`<time datetime=${t} title=${t}>${Ct.format(e)}</time>`}function B(t){if(!t)return"";let e=new Date(t);return Number.isNaN(e.getTime())?"":e.toISOString()}function xe(t){if(!t)return"";let e=new Date(t);return Number.isNaN(e.getTime())?"":new Date(e.getTime()-e.getTimezoneOffset()*6e4).toISOString().slice(0,16)}function S({error:t}){return t?u`<p class="error" role="alert">${t.message||String(t)}</p>`:null}function ie({text:t}){return t?u`<p class="notice" role="status">${t}</p>`:null}function H({value:t}){return u`<span class=${"badge badge-"+String(t).replace(/[^a-z_]/g,"")}>${t}</span>`}function F(){return u`<p class="muted" role="status">Loading…</p>`}function A(t,e){let[n,r]=g({data:null,error:null,loading:!0}),s=Se(()=>{let o=!0;return r(a=>({...a,loading:!0})),t().then(a=>o&&r({data:a,error:null,loading:!1}),a=>o&&r({data:null,error:a,loading:!1})),()=>{o=!1}},e);return R(s,[s]),{...n,reload:s}}function ae(t,e){let[n,r]=g([]),s=A(()=>(r([]),t(null)),e),o=L(),a=[...s.data?s.data.data:[],...n.flatMap(l=>l.data)],c=n.length?n[n.length-1]:s.data,_=()=>o.run(async()=>r([...n,await t(c.next_cursor)]));return{first:s,items:a,hasMore:!!(c&&c.has_more),loadMore:_,more:o}}function le({list:t}){return u`
    ${t.hasMore&&u`<button type="button" onClick=${t.loadMore} disabled=${t.more.busy}>Load more</button>`}
    <${S} error=${t.more.error} />
  `}function L(){let[t,e]=g(!1),[n,r]=g(null),s=Se(async o=>{e(!0),r(null);try{return await o()}catch(a){r(a);return}finally{e(!1)}},[]);return{busy:t,error:n,run:s,setError:r}}function q(t){location.hash="#"+t}function J({attempts:t,showEvent:e,showEndpoint:n}){return t.length?u`
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            ${e&&u`<th scope="col">Event</th>`}
            ${n&&u`<th scope="col">Endpoint</th>`}
            <th scope="col">#</th>
            <th scope="col">Time</th>
            <th scope="col">Outcome</th>
            <th scope="col">Status code</th>
            <th scope="col">Latency</th>
            <th scope="col">Error</th>
            <th scope="col">Response excerpt</th>
          </tr>
        </thead>
        <tbody>
          ${t.map(r=>u`
              <tr key=${r.event_id+r.endpoint_id+r.attempt} class="attempt-row">
                ${e&&u`<td><a href=${"#/events/"+encodeURIComponent(r.event_id)}>${r.event_id}</a></td>`}
                ${n&&u`<td>
                  <a href=${"#/endpoints/"+encodeURIComponent(r.endpoint_id)}>${r.endpoint_id}</a>
                </td>`}
                <td>${r.attempt}</td>
                <td><${E} iso=${r.attempted_at} /></td>
                <td><${H} value=${r.outcome} /></td>
                <td class="status-code">${r.status_code??"\u2014"}</td>
                <td>${r.latency_ms} ms</td>
                <td>
                  ${r.error_kind?u`<strong>${r.error_kind}</strong> ${r.error_message||""}`:"\u2014"}
                </td>
                <td><pre class="excerpt">${r.response_excerpt||""}</pre></td>
              </tr>
            `)}
        </tbody>
      </table>
    </div>
  `:u`<p class="empty">No attempts yet.</p>`}var Nt=6e4,Rt=1e3,T=t=>"/endpoints/"+encodeURIComponent(t);function lt({api:t,can:e}){let n=ae(c=>t.get("/endpoints"+O({limit:50,cursor:c})),[]),{data:r,error:s,loading:o}=n.first,a=n.items;return u`
    <section aria-labelledby="endpoints-title">
      <div class="heading-row">
        <h2 id="endpoints-title">Endpoints</h2>
        ${e(k.endpointsWrite)&&u`<a class="button primary" href="#/endpoints/new">Add endpoint</a>`}
      </div>
      <${S} error=${s} />
      ${o&&!r&&u`<${F} />`}
      ${r&&!a.length&&u`<p class="empty">
        No endpoints yet.
        ${e(k.endpointsWrite)?" Add one to start receiving webhooks.":""}
      </p>`}
      ${a.length>0&&u`<div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Description</th>
              <th scope="col">Event types</th>
              <th scope="col">State</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            ${a.map(c=>u`
                <tr key=${c.id} class="endpoint-row">
                  <td><a href=${"#"+T(c.id)}>${c.url}</a></td>
                  <td class="description">${c.description}</td>
                  <td>${c.event_types?c.event_types.join(", "):"all"}</td>
                  <td><${H} value=${c.enabled?"enabled":"disabled"} /></td>
                  <td><${E} iso=${c.created_at} /></td>
                </tr>
              `)}
          </tbody>
        </table>
      </div>`}
      <${le} list=${n} />
    </section>
  `}function Lt(t){let e={};for(let n of t.split(`
`)){if(!n.trim())continue;let r=n.indexOf(":");if(r<1)throw new Error(`Headers: write one 'Name: value' per line ("`+n.trim()+'" has no name).');e[n.slice(0,r).trim()]=n.slice(r+1).trim()}return e}function Dt(t){if(!t.trim())return null;try{return JSON.parse(t)}catch{throw new Error("Filter: this is not valid JSON.")}}function Te({api:t,endpointId:e,catalog:n}){let r=!!e,s=A(()=>r?t.get(T(e)):Promise.resolve(null),[e]),[o,a]=g(null),c=L();if(R(()=>{if(r&&!s.data)return;let i=s.data||{};a({url:i.url||"",description:i.description||"",eventTypes:i.event_types?i.event_types.join(", "):"",filter:i.filter?JSON.stringify(i.filter,null,2):"",headers:"",rateLimit:i.rate_limit?String(i.rate_limit):""})},[s.data]),s.error)return u`<${S} error=${s.error} />`;if(!o)return u`<${F} />`;let _=i=>p=>a({...o,[i]:p.currentTarget.value}),l=s.data?Object.keys(s.data.headers||{}):[];return u`
    <section aria-labelledby="form-title">
      <h2 id="form-title">${r?"Edit endpoint":"Add endpoint"}</h2>
      <form class="stack" onSubmit=${i=>{i.preventDefault(),c.run(async()=>{let p={url:o.url.trim(),description:o.description,event_types:o.eventTypes.trim()?o.eventTypes.split(",").map(h=>h.trim()).filter(Boolean):null,filter:Dt(o.filter),rate_limit:o.rateLimit.trim()?Number(o.rateLimit):null};if((o.headers.trim()||!r)&&(p.headers=Lt(o.headers)),!r)for(let h of Object.keys(p))p[h]===null&&delete p[h];let f=r?await t.patch(T(e),p):await t.post("/endpoints",p);q(T(f.id))})}}>
        <label for="ep-url">URL</label>
        <input id="ep-url" name="url" type="url" required value=${o.url} onInput=${_("url")}
          placeholder="https://example.com/webhooks" />
        <label for="ep-description">Description</label>
        <input id="ep-description" name="description" value=${o.description} onInput=${_("description")} />
        <label for="ep-types">Event types <span class="muted">(comma-separated; empty: all; "order.*" for a prefix)</span></label>
        <input id="ep-types" name="event_types" list="event-type-catalog" value=${o.eventTypes}
          onInput=${_("eventTypes")} />
        <datalist id="event-type-catalog">
          ${n.map(i=>u`<option key=${i} value=${i}></option>`)}
        </datalist>
        <label for="ep-filter">Filter <span class="muted">(JSON, optional)</span></label>
        <textarea id="ep-filter" name="filter" rows="3" value=${o.filter} onInput=${_("filter")}
          placeholder='{"data.amount": {"$gte": 100}}'></textarea>
        <label for="ep-headers">Headers <span class="muted">(one "Name: value" per line; values are write-only)</span></label>
        <textarea id="ep-headers" name="headers" rows="3" value=${o.headers} onInput=${_("headers")}></textarea>
        ${r&&l.length>0&&u`<p class="muted">Leave empty to keep the current headers: ${l.join(", ")}.</p>`}
        <label for="ep-rate">Rate limit <span class="muted">(deliveries per second; empty: none)</span></label>
        <input id="ep-rate" name="rate_limit" type="number" min="1" value=${o.rateLimit} onInput=${_("rateLimit")} />
        <${S} error=${c.error} />
        <div class="actions">
          <button class="primary" type="submit" disabled=${c.busy}>${r?"Save":"Add endpoint"}</button>
          <a class="button" href=${r?"#"+T(e):"#/endpoints"}>Cancel</a>
        </div>
      </form>
    </section>
  `}function Pt({api:t,endpointId:e,can:n}){let[r,s]=g(null),o=L(),a=()=>o.run(async()=>s(await t.get(T(e)+"/secret"))),c=()=>o.run(async()=>s(await t.post(T(e)+"/secret/rotate"))),_=r&&(r.secret||r.public_key);return u`
    <section aria-labelledby="secret-title" class="panel">
      <h3 id="secret-title">Signing secret</h3>
      ${_?u`<p><code class="secret">${_}</code></p>`:u`<p class="muted">Hidden. Verify deliveries with it (Standard Webhooks).</p>`}
      ${r&&r.previous_secret_expires_at&&u`<p class="notice" role="status">
        Rotated. The previous secret keeps signing until <${E} iso=${r.previous_secret_expires_at} />.
      </p>`}
      <div class="actions">
        ${!_&&u`<button type="button" onClick=${a} disabled=${o.busy}>Reveal secret</button>`}
        ${n(k.endpointsWrite)&&u`<button type="button" onClick=${c} disabled=${o.busy}>Rotate secret</button>`}
      </div>
      <${S} error=${o.error} />
    </section>
  `}function At({api:t,endpointId:e,can:n}){let[r,s]=g(null),[o,a]=g([]),c=L();return R(()=>{if(!r||!n(k.eventsRead))return;let l=Date.now()+Nt,d=null,i=async()=>{try{let p=await t.get("/events/"+encodeURIComponent(r.id)+"/attempts");if(a(p.data),p.data.some(f=>f.outcome==="succeeded")||Date.now()>l)return}catch(p){c.setError(p);return}d=setTimeout(i,Rt)};return i(),()=>clearTimeout(d)},[r]),u`
    <section aria-labelledby="test-title" class="panel">
      <h3 id="test-title">Send a test event</h3>
      <p class="muted">A "webhook.test" event, delivered to this endpoint only, signed and retried like any other.</p>
      <button type="button" onClick=${()=>c.run(async()=>{a([]),s(await t.post(T(e)+"/test"))})} disabled=${c.busy}>Send test event</button>
      <${S} error=${c.error} />
      ${r&&u`<p role="status">
        Sent <a href=${"#/events/"+encodeURIComponent(r.id)}>${r.id}</a>.
        ${n(k.eventsRead)&&!o.length?" Waiting for its first attempt\u2026":""}
      </p>`}
      ${o.length>0&&u`<${J} attempts=${o} />`}
    </section>
  `}function Ut({api:t,endpointId:e}){let[n,r]=g(""),[s,o]=g(null),a=L();return u`
    <section aria-labelledby="recover-title" class="panel">
      <h3 id="recover-title">Recover failed deliveries</h3>
      <form class="inline" onSubmit=${_=>{_.preventDefault(),a.run(async()=>{let l=await t.post(T(e)+"/recover",{since:B(n)});o(l)})}}>
        <label for="recover-since">Resend everything that failed since</label>
        <input id="recover-since" type="datetime-local" required value=${n}
          onInput=${_=>r(_.currentTarget.value)} />
        <button type="submit" disabled=${a.busy}>Recover</button>
      </form>
      <${S} error=${a.error} />
      ${s&&u`<${ie} text=${"Queued: failed deliveries since "+new Date(s.since).toLocaleString()+" are being resent."} />`}
    </section>
  `}function ct({api:t,endpointId:e,can:n}){let{data:r,error:s,reload:o}=A(()=>t.get(T(e)),[e]),a=A(()=>n(k.eventsRead)?t.get(T(e)+"/attempts"+O({limit:20})):Promise.resolve({data:[]}),[e]),c=L(),[_,l]=g(!1);if(s)return u`<${S} error=${s} /><p><a href="#/endpoints">Back to endpoints</a></p>`;if(!r)return u`<${F} />`;let d=n(k.endpointsWrite),i=()=>c.run(async()=>{await t.patch(T(e),{enabled:!r.enabled}),o()}),p=()=>c.run(async()=>{await t.del(T(e)),q("/endpoints")}),f=Object.keys(r.headers||{});return u`
    <section aria-labelledby="endpoint-title">
      <p><a href="#/endpoints">← Endpoints</a></p>
      <div class="heading-row">
        <h2 id="endpoint-title" class="url">${r.url}</h2>
        <${H} value=${r.enabled?"enabled":"disabled"} />
      </div>
      <dl class="facts">
        <dt>ID</dt><dd><code>${r.id}</code></dd>
        <dt>Description</dt><dd class="description">${r.description||"\u2014"}</dd>
        <dt>Event types</dt><dd>${r.event_types?r.event_types.join(", "):"all"}</dd>
        <dt>Filter</dt><dd>${r.filter?u`<pre>${JSON.stringify(r.filter,null,2)}</pre>`:"none"}</dd>
        <dt>Headers</dt>
        <dd class="header-names">
          ${f.length?f.map(h=>u`<code key=${h}>${h}</code> `):"none"}
        </dd>
        <dt>Rate limit</dt><dd>${r.rate_limit?r.rate_limit+" per second":"none"}</dd>
        ${r.disabled_reason&&u`<dt>Disabled because</dt><dd>${r.disabled_reason}</dd>`}
        <dt>Created</dt><dd><${E} iso=${r.created_at} /></dd>
        <dt>Updated</dt><dd><${E} iso=${r.updated_at} /></dd>
      </dl>
      ${d&&u`<div class="actions">
        <a class="button" href=${"#"+T(e)+"/edit"}>Edit</a>
        <button type="button" onClick=${i} disabled=${c.busy}>${r.enabled?"Disable":"Enable"}</button>
        ${_?u`<button type="button" class="danger" onClick=${p} disabled=${c.busy}>Yes, delete it</button>
              <button type="button" onClick=${()=>l(!1)}>Keep it</button>`:u`<button type="button" class="danger" onClick=${()=>l(!0)}>Delete</button>`}
      </div>`}
      <${S} error=${c.error} />
      <${Pt} api=${t} endpointId=${e} can=${n} />
      ${d&&u`<${At} api=${t} endpointId=${e} can=${n} />`}
      ${d&&u`<${Ut} api=${t} endpointId=${e} />`}
      ${n(k.eventsRead)&&u`<section aria-labelledby="attempts-title" class="panel">
        <h3 id="attempts-title">Recent attempts</h3>
        <${S} error=${a.error} />
        ${a.data&&u`<${J} attempts=${a.data.data} showEvent=${!0} />`}
      </section>`}
    </section>
  `}var Ot=["pending","retrying","succeeded","failed"],ce=t=>"/events/"+encodeURIComponent(t);function ut({api:t,filters:e}){let[n,r]=g({type:e.type||"",status:e.status||"",since:xe(e.since),until:xe(e.until)}),s={type:e.type,status:e.status,since:e.since,until:e.until},o=ae(i=>t.get("/events"+O({...s,limit:50,cursor:i})),[JSON.stringify(s)]),a=o.first,c=o.items,_=i=>p=>r({...n,[i]:p.currentTarget.value}),l=i=>{i.preventDefault();let p="/events"+O({type:n.type.trim(),status:n.status,since:B(n.since),until:B(n.until)});q(p)},d=Object.values(s).some(Boolean);return u`
    <section aria-labelledby="events-title">
      <h2 id="events-title">Events</h2>
      <form class="filters" onSubmit=${l} role="search">
        <div>
          <label for="search-type">Type</label>
          <input id="search-type" name="type" value=${n.type} onInput=${_("type")} placeholder="order.* or order.created" />
        </div>
        <div>
          <label for="search-status">Delivery status</label>
          <select id="search-status" name="status" value=${n.status} onChange=${_("status")}>
            <option value="">any</option>
            ${Ot.map(i=>u`<option key=${i} value=${i}>${i}</option>`)}
          </select>
        </div>
        <div>
          <label for="search-since">From</label>
          <input id="search-since" type="datetime-local" value=${n.since} onInput=${_("since")} />
        </div>
        <div>
          <label for="search-until">Until</label>
          <input id="search-until" type="datetime-local" value=${n.until} onInput=${_("until")} />
        </div>
        <div class="filter-actions"><button class="primary" type="submit">Search</button></div>
      </form>
      <${S} error=${a.error} />
      ${a.loading&&!a.data&&u`<${F} />`}
      ${a.data&&!c.length&&u`<p class="empty">${d?"No events match this search.":"No events yet. Events you are sent appear here."}</p>`}
      ${c.length>0&&u`<div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Type</th>
              <th scope="col">Time</th>
              <th scope="col">Deliveries</th>
            </tr>
          </thead>
          <tbody>
            ${c.map(i=>u`
                <tr key=${i.id} class="event-row">
                  <td><a href=${"#"+ce(i.id)}>${i.id}</a></td>
                  <td class="event-type">${i.type}</td>
                  <td><${E} iso=${i.timestamp} /></td>
                  <td>
                    ${i.deliveries.length?i.deliveries.map(p=>u`<${H} key=${p.endpoint_id} value=${p.status} /> `):u`<span class="muted">no endpoint matched</span>`}
                  </td>
                </tr>
              `)}
          </tbody>
        </table>
      </div>`}
      <${le} list=${o} />
    </section>
  `}function _t({api:t,eventId:e,can:n}){let r=A(()=>t.get(ce(e)),[e]),s=A(()=>t.get(ce(e)+"/attempts"+O({limit:100})),[e]),o=L(),[a,c]=g("");if(r.error)return u`<${S} error=${r.error} /><p><a href="#/events">Back to events</a></p>`;if(!r.data)return u`<${F} />`;let _=d=>o.run(async()=>{await t.post(ce(e)+"/retry",{endpoint_id:d}),c("Queued a new attempt to "+d+"."),r.reload(),s.reload()}),{data:l}=r;return u`
    <section aria-labelledby="event-title">
      <p><a href="#/events">← Events</a></p>
      <h2 id="event-title">Event <code>${l.id}</code></h2>
      <dl class="facts">
        <dt>Type</dt><dd class="event-type">${l.type}</dd>
        <dt>Time</dt><dd><${E} iso=${l.timestamp} /></dd>
      </dl>
      <details>
        <summary>Payload</summary>
        <pre class="payload">${JSON.stringify(l.data,null,2)}</pre>
      </details>
      <h3>Deliveries</h3>
      <${S} error=${o.error} />
      <${ie} text=${a} />
      ${!l.deliveries.length&&u`<p class="empty">No endpoint matched this event.</p>`}
      ${l.deliveries.length>0&&u`<div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Endpoint</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last attempt</th>
              <th scope="col">Last status code</th>
              <th scope="col">Last error</th>
              <th scope="col">Next attempt</th>
              ${n(k.eventsWrite)&&u`<th scope="col"><span class="visually-hidden">Actions</span></th>`}
            </tr>
          </thead>
          <tbody>
            ${l.deliveries.map(d=>u`
                <tr key=${d.endpoint_id} class="delivery-row">
                  <td><a href=${"#/endpoints/"+encodeURIComponent(d.endpoint_id)}>${d.endpoint_id}</a></td>
                  <td><${H} value=${d.status} /></td>
                  <td>${d.attempts}</td>
                  <td><${E} iso=${d.last_attempt_at} /></td>
                  <td>${d.last_status_code??"\u2014"}</td>
                  <td>${d.last_error_kind?d.last_error_kind+": "+(d.last_error||""):"\u2014"}</td>
                  <td>${d.next_attempt_at?u`<${E} iso=${d.next_attempt_at} />`:"\u2014"}</td>
                  ${n(k.eventsWrite)&&u`<td>
                    <button type="button" onClick=${()=>_(d.endpoint_id)} disabled=${o.busy}
                      aria-label=${"Retry delivery to "+d.endpoint_id}>Retry</button>
                  </td>`}
                </tr>
              `)}
          </tbody>
        </table>
      </div>`}
      <h3>Attempts</h3>
      <${S} error=${s.error} />
      ${s.data&&u`<${J} attempts=${s.data.data} showEndpoint=${!0} />`}
    </section>
  `}function dt(){let[t,e]=location.hash.replace(/^#/,"").split("?");return{parts:t.split("/").filter(Boolean).map(decodeURIComponent),params:new URLSearchParams(e||"")}}function Ht(){let[t,e]=g(dt);return R(()=>{let n=()=>e(dt());return addEventListener("hashchange",n),()=>removeEventListener("hashchange",n)},[]),t}function Ee({title:t,expired:e,message:n}){return u`
    <main class="signed-out" id="main">
      <h1>${t}</h1>
      <h2>${e?"This portal link has expired":"This page needs a portal link"}</h2>
      <p role="alert">
        ${e?"For your security, portal links work for a limited time. Go back to the application that sent you here and open the portal again to get a fresh link.":"Open the portal from the application that manages your webhooks: it gives you a link that signs you in."}
      </p>
      ${n&&u`<p class="muted">${n}</p>`}
    </main>
  `}function ue(){return u`<p class="empty" role="alert">This portal link does not give access to this page.</p>`}function Ft(t){let[e,n]=g([]);return R(()=>{fetch(new URL("event-types?limit=250",location.href),{headers:{Authorization:"Bearer "+t.token},credentials:"omit",referrerPolicy:"no-referrer"}).then(r=>r.ok?r.json():{data:[]}).then(r=>n((r.data||[]).map(s=>s.name).filter(s=>typeof s=="string"))).catch(()=>n([]))},[]),e}function Mt({session:t,title:e}){let[n,r]=g(null),s=we(()=>{let h=rt(t,x=>r({message:x}));return h.token=t.token,h},[t]),o=Ht(),a=Ft(s),c=h=>t.scopes.has(h);if(R(()=>{let h=t.expiresAt.getTime()-Date.now(),x=setTimeout(()=>r({message:""}),Math.max(0,Math.min(h,2**31-1)));return()=>clearTimeout(x)},[t]),n)return u`<${Ee} title=${e} expired=${!0} message=${n.message} />`;let[_,l,d]=o.parts,i=c(k.endpointsRead)?"endpoints":"events",p=_||i,f;if(p==="endpoints")c(k.endpointsRead)?l==="new"?f=c(k.endpointsWrite)?u`<${Te} api=${s} catalog=${a} />`:u`<${ue} />`:l&&d==="edit"?f=c(k.endpointsWrite)?u`<${Te} key=${l} api=${s} endpointId=${l} catalog=${a} />`:u`<${ue} />`:l?f=u`<${ct} key=${l} api=${s} endpointId=${l} can=${c} />`:f=u`<${lt} api=${s} can=${c} />`:f=u`<${ue} />`;else if(p==="events")if(!c(k.eventsRead))f=u`<${ue} />`;else if(l)f=u`<${_t} key=${l} api=${s} eventId=${l} can=${c} />`;else{let h=Object.fromEntries(o.params.entries());f=u`<${ut} key=${o.params.toString()} api=${s} filters=${h} />`}else f=u`<p class="empty" role="alert">There is no such page. <a href="#/">Go to the start.</a></p>`;return u`
    <a class="skip" href="#main" onClick=${h=>{h.preventDefault(),document.getElementById("main").focus()}}>Skip to content</a>
    <header class="top">
      <h1>${e}</h1>
      <nav aria-label="Sections">
        ${c(k.endpointsRead)&&u`<a href="#/endpoints" aria-current=${p==="endpoints"?"page":void 0}>Endpoints</a>`}
        ${c(k.eventsRead)&&u`<a href="#/events" aria-current=${p==="events"?"page":void 0}>Events</a>`}
      </nav>
    </header>
    <main id="main" tabindex="-1">${f}</main>
    <footer>
      <span>Account <code>${t.tenant}</code></span>
      <span>Access: ${[...t.scopes].sort().join(", ")}</span>
      <span>Link valid until <${E} iso=${t.expiresAt.toISOString()} /></span>
      <span>Times in ${at}</span>
    </footer>
  `}function Wt(){let t=document.title||"Webhooks",e=document.getElementById("app"),n=nt();n?n.expiresAt.getTime()<=Date.now()?ne(u`<${Ee} title=${t} expired=${!0} />`,e):ne(u`<${Mt} session=${n} title=${t} />`,e):ne(u`<${Ee} title=${t} expired=${!1} />`,e)}Wt();
